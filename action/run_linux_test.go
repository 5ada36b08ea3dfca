package action

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
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
	d := delivery(t, "repo.content", "")
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

// paddedBody returns the JSON of a sample repo.content event padded to size
// bytes with an extra field.
func paddedBody(t *testing.T, size int) []byte {
	t.Helper()
	m, err := sample.Build("repo.content", sample.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m["padding"] = ""
	small, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	m["padding"] = strings.Repeat("x", size-len(small))
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestRunPayloadOfAnySize sends deliveries through a Server to a command;
// it is here because its script uses GNU stat and sha256sum.
func TestRunPayloadOfAnySize(t *testing.T) {
	// The script prints the SHA-256 of stdin and of the payload file, the
	// file's mode, whether WEBHOOK_PAYLOAD is set and the file's name.
	const script = `set -e
printf 'stdin %s\n' "$(sha256sum | cut -d' ' -f1)"
printf 'file %s\n' "$(sha256sum < "$WEBHOOK_PAYLOAD_FILE" | cut -d' ' -f1)"
printf 'mode %s\n' "$(stat -c %a "$WEBHOOK_PAYLOAD_FILE")"
printf 'env %s\n' "${WEBHOOK_PAYLOAD+set}"
printf 'path %s\n' "$WEBHOOK_PAYLOAD_FILE"`
	srv := hfhooks.NewServer(hfhooks.WithSecret("s"), hfhooks.WithLogger(slog.New(slog.DiscardHandler)))
	if err := srv.AddEndpoint("run", Run(sh(script))); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	tests := []struct {
		name string
		size int
		env  string
	}{
		{name: "small", size: 2 << 10, env: "set"},
		{name: "at the environment limit", size: MaxEnvPayload, env: "set"},
		{name: "over the environment limit", size: MaxEnvPayload + 1},
		{name: "just under the body limit", size: hfhooks.DefaultMaxBodyBytes - 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := paddedBody(t, tt.size)
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/webhooks/run", bytes.NewReader(body))
			req.Header.Set(hfhooks.SecretHeader, "s")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			answer, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || strings.Contains(string(answer), "stdin") {
				t.Fatalf("answer %d %s; want 200 without the command's output, which is for operators", resp.StatusCode, answer)
			}
			// The output is kept with the delivery, for the page.
			resp, err = http.Get(ts.URL + "/api/deliveries?limit=1")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var page hfhooks.HistoryPage
			if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || len(page.Deliveries) != 1 {
				t.Fatalf("history: %+v (%v)", page, err)
			}
			res := page.Deliveries[0]
			got := map[string]string{}
			for line := range strings.Lines(res.Output) {
				k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
				got[k] = v
			}
			sum := sha256.Sum256(body)
			want := map[string]string{"stdin": hex.EncodeToString(sum[:]), "file": hex.EncodeToString(sum[:]), "mode": "600", "env": tt.env}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s = %q; want %q (output %q)", k, got[k], w, res.Output)
				}
			}
			if _, err := os.Stat(got["path"]); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("payload file %q after the run: %v; want it removed", got["path"], err)
			}
		})
	}
}
