//go:build unix

package addrlist

import (
	"os"
	"syscall"
)

// dupDescriptor returns a file sharing descriptor fd's open file (and so
// its offset), which closing leaves open.
func dupDescriptor(fd int) (*os.File, error) {
	nfd, err := syscall.Dup(fd)
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(nfd)
	return os.NewFile(uintptr(nfd), "rejects"), nil
}
