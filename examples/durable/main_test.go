package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/queue"
)

// TestRun queues a delivery, stops run as Ctrl-C does, and checks that run
// returned no error and closed the queue, whose file the next start can
// then open.
func TestRun(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "hooks.db")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, startup := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, dsn, hfhooks.WithAddr("127.0.0.1:0"), hfhooks.WithOutput(startup), hfhooks.WithLogger(slog.New(slog.DiscardHandler)))
		startup.Close()
	}()

	// The start-up lines give the address.
	var url string
	lines := bufio.NewScanner(out)
	for url == "" && lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "Running on local URL:"); ok {
			url = strings.TrimSpace(rest)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if url == "" {
		t.Fatalf("run did not start: %v", <-done)
	}
	resp, err := hubtest.Send(ctx, url+"/webhooks/trigger_training", "my_secret_key", hubtest.Event{Kind: "repo.content", Repo: "dataset:acme/reviews"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("delivery: %s, want 202 (queued)", resp.Status)
	}

	cancel() // as Ctrl-C does
	if err := <-done; err != nil {
		t.Fatalf("run after Ctrl-C: %v, want nil", err)
	}
	q, err := queue.Open(t.Context(), dsn, queue.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("opening the queue after run: %v (run left it open)", err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
}
