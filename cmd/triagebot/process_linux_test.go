package main

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes a started triagebot die with the test process, even if the test binary is
// killed (a timeout) before its cleanups run.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
