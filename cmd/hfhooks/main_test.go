package main

import (
	"os"
	"os/exec"
	"testing"
)

// testMainEnv, set to 1, makes the test binary run as hfhooks itself: the
// tests that need a process of their own (signals, SIGKILL, file locks) run
// it, rather than building the command again.
const testMainEnv = "HFHOOKS_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(testMainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// hfhooksCmd returns the command that runs "hfhooks args..." as a process:
// this test binary playing hfhooks.
func hfhooksCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), testMainEnv+"=1")
	return cmd
}
