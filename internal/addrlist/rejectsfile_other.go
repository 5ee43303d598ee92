//go:build !unix

package addrlist

import (
	"errors"
	"os"
)

// dupDescriptor is not available here: such paths are Unix ones.
func dupDescriptor(int) (*os.File, error) {
	return nil, errors.New("a process descriptor path needs a Unix system")
}
