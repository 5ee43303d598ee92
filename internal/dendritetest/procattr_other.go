//go:build !linux

package dendritetest

import "syscall"

// procAttr returns nil: parent-death signals are Linux-only.
func procAttr() *syscall.SysProcAttr { return nil }
