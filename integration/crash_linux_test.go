//go:build linux

package integration

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the kernel SIGKILL the replica when the test process
// dies, so that a test ended by -timeout leaves no replica running. Linux
// sends the signal when the thread that started the child exits, which is
// why supervise keeps its goroutine locked to its thread.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
