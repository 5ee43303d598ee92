//go:build !linux

package redisserver

import "syscall"

// KillWithParent returns nil: parent-death signals are Linux-only.
func KillWithParent() *syscall.SysProcAttr { return nil }
