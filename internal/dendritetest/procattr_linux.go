package dendritetest

import "syscall"

// procAttr makes the kernel kill Dendrite if the test process dies without
// running its cleanups (go test -timeout panic, SIGKILL).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
