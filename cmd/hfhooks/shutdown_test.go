package main

import (
	"bytes"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
)

// TestServeTwoSignals runs "hfhooks serve --config" with a hook whose first
// run sleeps for 30 s: the first SIGINT logs what the shutdown waits for,
// the second stops the process at once, and after a restart the interrupted
// delivery runs again, from the queue.
func TestServeTwoSignals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs.log")
	// Each run appends a line to runs.log; the first one then sleeps.
	config := writeConfig(t, dir, `
hooks:
  - name: trigger_training
    run:
      command: [sh, -c, 'echo "$WEBHOOK_DELIVERY_ID" >> runs.log; [ "$(wc -l < runs.log)" -ge 2 ] || exec sleep 30']
`)
	args := []string{"--config", config, "--queue", "sqlite:" + filepath.Join(dir, "q.db"), "--retry-backoff", "10ms"}
	p := startProc(t, args...)

	req, _ := http.NewRequest(http.MethodPost, p.url+"/webhooks/trigger_training", bytes.NewReader(crashBody(t, "signals", 0)))
	req.Header.Set(hfhooks.SecretHeader, "s")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery answered %d; want 202", resp.StatusCode)
	}
	eventually(t, "the first run", func() bool { return strings.Count(readFile(runs), "\n") == 1 })

	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	const waiting = "shutting down on interrupt: waiting for 1 delivery to finish (trigger_training: 1), grace 30s left; press Ctrl-C again"
	eventually(t, "the shutdown line", func() bool { return strings.Contains(p.stderr.String(), waiting) })
	select {
	case <-p.exited:
		t.Fatalf("exited at the first signal:\n%s", p.stderr)
	case <-time.After(100 * time.Millisecond):
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		t.Logf("exited %v after the second signal", time.Since(start))
	case <-time.After(2 * time.Second):
		t.Fatalf("still running 2s after the second signal:\n%s", p.stderr)
	}
	if want := "stopping now: cancelling 1 delivery (trigger_training: 1); they stay queued and run again after a restart"; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
	}

	first := p
	p = startProc(t, args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("first process:\n%s\nsecond process:\n%s", first.stderr, p.stderr)
		}
	})
	eventually(t, "the second run", func() bool { return strings.Count(readFile(runs), "\n") == 2 })
	ids := strings.Fields(readFile(runs))
	if ids[0] != ids[1] {
		t.Errorf("runs of deliveries %v; want the same delivery twice", ids)
	}
	eventually(t, "the delivery to succeed", func() bool { return attemptsOf(t, p.url)[ids[0]] > 0 })
}
