package e2e

import "syscall"

// procAttr makes the kernel kill a child if the test process dies without
// running its cleanups (go test -timeout panic, SIGKILL).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
