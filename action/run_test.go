package action

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hubtest"
)

// delivery returns a delivery of a sample event of kind on repo
// ("TYPE:NAME", or "" for the default), which carries a secret the handlers
// must not pass on.
func delivery(t *testing.T, kind, repo string) *hfhooks.Delivery {
	t.Helper()
	d, err := hubtest.NewDelivery(hubtest.Event{Kind: kind, Repo: repo})
	if err != nil {
		t.Fatal(err)
	}
	d.Header.Set(hfhooks.SecretHeader, "incoming-secret")
	return d
}

// sh returns a command running script with sh -c.
func sh(script string) Command {
	return Command{Args: []string{"sh", "-c", script, "sh"}}
}

// readFile returns the content of a file the test's commands wrote.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunEnvironmentAndStdin(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", "server-secret")
	t.Setenv("HFHOOKS_TEST_PARENT", "inherited")
	dir := t.TempDir()
	d := delivery(t, "repo.content", "dataset:my-org/reviews")
	vars := []string{"WEBHOOK_PAYLOAD", "WEBHOOK_REPO_ID", "WEBHOOK_REPO_TYPE", "WEBHOOK_SCOPE", "WEBHOOK_ACTION",
		"WEBHOOK_HEAD_SHA", "WEBHOOK_DELIVERY_ID", "WEBHOOK_SECRET", "HFHOOKS_TEST_PARENT", "EXTRA"}
	// The script writes stdin, the working directory and each variable (or
	// "<unset>") to files named after them.
	script := `cat > stdin; pwd > pwd; for v in "$@"; do eval "printf %s \"\${$v-<unset>}\"" > "$v"; done`

	tests := []struct {
		name   string
		secret string
		want   map[string]string
	}{
		{name: "without secret", want: map[string]string{"WEBHOOK_SECRET": "<unset>"}},
		{name: "with secret", secret: "hook-secret", want: map[string]string{"WEBHOOK_SECRET": "hook-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := Command{
				Args:   append([]string{"sh", "-c", script, "sh"}, vars...),
				Dir:    dir,
				Env:    map[string]string{"EXTRA": "x=1", "WEBHOOK_REPO_ID": "overridden"},
				Secret: tt.secret,
			}
			v, err := Run(cmd)(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			if r := v.(*RunResult); r.Status != "ok" || r.ExitCode != 0 {
				t.Errorf("result = %+v", r)
			}
			want := map[string]string{
				"WEBHOOK_PAYLOAD":     string(d.Body),
				"WEBHOOK_REPO_ID":     "my-org/reviews",
				"WEBHOOK_REPO_TYPE":   "dataset",
				"WEBHOOK_SCOPE":       "repo.content",
				"WEBHOOK_ACTION":      "update",
				"WEBHOOK_HEAD_SHA":    d.Payload.Repo.HeadSha,
				"WEBHOOK_DELIVERY_ID": d.ID,
				"HFHOOKS_TEST_PARENT": "inherited",
				"EXTRA":               "x=1",
				"stdin":               string(d.Body),
			}
			for k, v := range tt.want {
				want[k] = v
			}
			for name, w := range want {
				if got := readFile(t, filepath.Join(dir, name)); got != w {
					t.Errorf("%s = %q; want %q", name, got, w)
				}
			}
			if got := strings.TrimSpace(readFile(t, filepath.Join(dir, "pwd"))); got != dir {
				t.Errorf("working directory = %q; want %q", got, dir)
			}
		})
	}
}

func TestRunWithoutHeadSha(t *testing.T) {
	d := delivery(t, "discussion.create", "")
	v, err := Run(sh(`printf %s "${WEBHOOK_HEAD_SHA-<unset>}"`))(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*RunResult).Output; got != "<unset>" {
		t.Errorf("WEBHOOK_HEAD_SHA = %q; want it unset on a discussion event", got)
	}
}

func TestRunFailures(t *testing.T) {
	d := delivery(t, "repo.content", "")
	tests := []struct {
		name     string
		cmd      Command
		exitCode int
		timedOut bool
		msg      string
	}{
		{name: "exit code", cmd: sh(`echo working; echo boom >&2; exit 3`), exitCode: 3,
			msg: "sh: exited with code 3"},
		{name: "timeout", cmd: Command{Args: []string{"sh", "-c", "echo started; sleep 30"}, Timeout: 100 * time.Millisecond},
			exitCode: -1, timedOut: true, msg: "sh: timed out after 100ms and was killed"},
		{name: "missing program", cmd: Command{Args: []string{"hfhooks-no-such-program"}}, exitCode: -1,
			msg: `hfhooks-no-such-program: exec: "hfhooks-no-such-program": executable file not found in $PATH`},
		{name: "empty", cmd: Command{}, exitCode: -1, msg: "empty command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Run(tt.cmd)(context.Background(), d)
			var re *RunError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v; want a *RunError", err)
			}
			if re.ExitCode != tt.exitCode || re.TimedOut != tt.timedOut || err.Error() != tt.msg {
				t.Errorf("err = %q (exit code %d, timed out %v); want %q (%d, %v)", err, re.ExitCode, re.TimedOut, tt.msg, tt.exitCode, tt.timedOut)
			}
		})
	}
}

func TestRunOutputIsBounded(t *testing.T) {
	d := delivery(t, "repo.content", "")
	cmd := sh(`i=0; while [ $i -lt 100 ]; do printf 'line %03d\n' $i; i=$((i+1)); done`)
	cmd.MaxOutput = 18
	v, err := Run(cmd)(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	want := "[... 882 bytes of output dropped ...]\nline 098\nline 099\n"
	if got := v.(*RunResult).Output; got != want {
		t.Errorf("output = %q; want %q", got, want)
	}
}

func TestTailBuffer(t *testing.T) {
	tests := []struct {
		writes []string
		want   string
	}{
		{writes: []string{"abc"}, want: "abc"},
		{writes: []string{"abcd", "ef"}, want: "[... 1 bytes of output dropped ...]\nbcdef"},
		{writes: []string{"ab", "cdefghi"}, want: "[... 4 bytes of output dropped ...]\nefghi"},
		{writes: []string{"abcde", "", "f"}, want: "[... 1 bytes of output dropped ...]\nbcdef"},
	}
	for _, tt := range tests {
		b := &tailBuffer{max: 5}
		for _, w := range tt.writes {
			if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", w, n, err)
			}
		}
		if got := b.String(); got != tt.want {
			t.Errorf("after %q: %q; want %q", tt.writes, got, tt.want)
		}
	}
}
func TestRunRemovesPayloadFileAfterTimeout(t *testing.T) {
	d := delivery(t, "repo.content", "")
	cmd := sh(`echo "$WEBHOOK_PAYLOAD_FILE"; sleep 30`)
	cmd.Timeout = 100 * time.Millisecond
	_, err := Run(cmd)(context.Background(), d)
	var re *RunError
	if !errors.As(err, &re) || !re.TimedOut {
		t.Fatalf("err = %v; want a timeout", err)
	}
	path := strings.TrimSpace(re.Output)
	if !strings.Contains(path, "hfhooks-payload-") {
		t.Fatalf("output = %q; want the payload file's name", re.Output)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("payload file %q after the timeout: %v; want it removed", path, err)
	}
}
