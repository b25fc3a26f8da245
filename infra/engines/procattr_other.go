//go:build !linux

package engines

import "syscall"

// procAttr puts an engine in its own process group, so Stop can kill it with
// everything it spawned. Outside Linux there is no parent-death signal: an
// engine outlives a parent that dies without calling Stop.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
