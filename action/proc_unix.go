//go:build unix

package action

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// killGroupOnCancel starts x in a process group of its own and makes the
// end of its context kill the whole group, so that the processes the command
// started die with it.
func killGroupOnCancel(x *exec.Cmd) {
	x.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	x.Cancel = func() error {
		// The process has not been waited for, so its id is still its own
		// and is the group's id.
		err := syscall.Kill(-x.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
}
