package redisserver

import "syscall"

// KillWithParent returns process attributes that make the kernel kill a
// child (redis-server, Dendrite, a worker under test) when the process that
// started it dies without running its cleanups (a test timeout's panic,
// SIGKILL), so nothing is left listening on loopback.
func KillWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
