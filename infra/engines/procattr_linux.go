package engines

import "syscall"

// procAttr puts an engine in its own process group, so Stop can kill it with
// everything it spawned and a terminal's Ctrl-C reaches only our process, which
// then stops the engines itself. Pdeathsig makes the kernel kill the engine
// when our process dies without calling Stop (test binary killed on timeout,
// kill -9). Pdeathsig fires when the OS thread that started the child exits;
// the Go runtime only ends threads whose goroutine exits while locked to them
// (runtime.LockOSThread), which this package never does.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
