//go:build !unix

package action

import "os/exec"

// killGroupOnCancel leaves exec's default in place where there are no
// process groups: the end of the context kills the command only.
func killGroupOnCancel(*exec.Cmd) {}
