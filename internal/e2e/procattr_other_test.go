//go:build !linux

package e2e

import "syscall"

// procAttr: Pdeathsig is Linux-only; elsewhere the cleanups stop children.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
