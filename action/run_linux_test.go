package action

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks/internal/sample"
)

// alive reports whether process pid exists and is not a zombie (a killed
// process may wait to be reaped by an init that does not reap).
func alive(t *testing.T, pid int) bool {
	t.Helper()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	// The state follows the command name, which is in parentheses.
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// waitGone fails the test unless process pid ends within a few seconds.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); alive(t, pid); {
		if time.Now().After(deadline) {
			t.Fatalf("process %d is still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunKillsProcessGroup checks that the timeout and a cancelled context
// kill the grandchildren a command started, not only the command.
func TestRunKillsProcessGroup(t *testing.T) {
	d := delivery(t, "repo.content", sample.Options{})
	tests := []struct {
		name    string
		timeout time.Duration
		cancel  bool
		msg     string
	}{
		{name: "timeout", timeout: 200 * time.Millisecond, msg: "sh: timed out after 200ms and was killed"},
		{name: "cancel", cancel: true, msg: "sh: killed: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pidFile := filepath.Join(t.TempDir(), "pid")
			// The grandchild sleep writes nothing, so the command's output
			// ends when it dies.
			cmd := sh(`sleep 30 & echo $! > "$1.tmp" && mv "$1.tmp" "$1"; wait`)
			cmd.Args = append(cmd.Args, pidFile)
			cmd.Timeout = tt.timeout
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				_, err := Run(cmd)(ctx, d)
				errc <- err
			}()
			var pid int
			for deadline := time.Now().Add(5 * time.Second); ; {
				if b, err := os.ReadFile(pidFile); err == nil {
					if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
						t.Fatal(err)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the command did not start its grandchild")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if tt.cancel {
				cancel()
			}
			select {
			case err := <-errc:
				if err == nil || err.Error() != tt.msg {
					t.Errorf("err = %v; want %q", err, tt.msg)
				}
			case <-time.After(waitDelay + 5*time.Second):
				t.Fatal("the run did not end")
			}
			waitGone(t, pid)
		})
	}
}
