package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hubtest"
)

// opToken is the operator token of the receivers the deliveries commands
// talk to; it must never be printed.
const opToken = "op-token-never-printed"

// fakeReceiver serves the deliveries API of a receiver in durable mode,
// with fixed deliveries, and records the requests it gets.
type fakeReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
}

func newFakeReceiver(t *testing.T) *fakeReceiver {
	t.Helper()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	failed := hfhooks.DeliveryRecord{ID: "42", Time: at, Endpoint: "retrain", Scope: "repo.content", Action: hfhooks.ActionUpdate, RepoType: hfhooks.RepoModel,
		RepoName: "acme/sentiment", StatusCode: http.StatusAccepted, State: hfhooks.StateFailed, Attempts: 2, Duration: 1500 * time.Millisecond, Error: "cluster unreachable", Output: "epoch 1\nTraceback"}
	rejected := hfhooks.DeliveryRecord{ID: "a1b2c3", Time: at.Add(-time.Minute), Endpoint: "retrain", StatusCode: http.StatusForbidden, State: hfhooks.StateRejected, Error: "Invalid webhook secret."}
	details := map[string]hfhooks.DeliveryDetail{
		"42": {Delivery: failed, Payload: json.RawMessage(`{"event":{"action":"update","scope":"repo.content"},"repo":{"name":"acme/sentiment","type":"model"}}`), Attempts: []hfhooks.Attempt{
			{Number: 1, State: hfhooks.StateFailed, Ended: at.Add(time.Second), Error: "timeout"},
			{Number: 2, State: hfhooks.StateFailed, Ended: at.Add(time.Minute), Duration: 1500 * time.Millisecond, Error: "cluster unreachable", Output: "epoch 1\nTraceback"},
		}},
		"a1b2c3": {Delivery: rejected, Attempts: []hfhooks.Attempt{}},
	}
	f := &fakeReceiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/deliveries", func(w http.ResponseWriter, r *http.Request) {
		writeJSONTo(w, hfhooks.HistoryPage{Deliveries: []hfhooks.DeliveryRecord{failed, rejected}, Next: "a1b2c3"})
	})
	mux.HandleFunc("GET /api/deliveries/{id}", func(w http.ResponseWriter, r *http.Request) {
		d, ok := details[r.PathValue("id")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			writeJSONTo(w, map[string]string{"error": fmt.Sprintf("no delivery %q: the server keeps its last requests in memory", r.PathValue("id"))})
			return
		}
		writeJSONTo(w, d)
	})
	mux.HandleFunc("POST /api/deliveries/{id}/retry", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "42" {
			w.WriteHeader(http.StatusConflict)
			writeJSONTo(w, map[string]string{"error": "queue: delivery " + r.PathValue("id") + " is succeeded: delivery has not failed"})
			return
		}
		writeJSONTo(w, map[string]string{"status": "queued", "id": "42"})
	})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+opToken {
			w.WriteHeader(http.StatusUnauthorized)
			writeJSONTo(w, map[string]string{"error": "not signed in: sign in at /signin, or send Authorization: Bearer with the operator token"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func TestDeliveriesCommands(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		noToken bool
	}{
		{name: "ls", args: []string{"ls"}},
		{name: "list_json", args: []string{"list", "--format", "json", "--limit", "2"}},
		{name: "ls_quiet_failed", args: []string{"ls", "--format", "quiet", "--state", "failed", "--before", "99"}},
		{name: "ls_bad_format", args: []string{"ls", "--format", "yaml"}},
		{name: "ls_bad_state", args: []string{"ls", "--state", "broken"}},
		{name: "ls_bad_limit", args: []string{"ls", "--limit", "501"}},
		{name: "ls_extra_arg", args: []string{"ls", "extra"}},
		{name: "ls_no_token", args: []string{"ls"}, noToken: true},
		{name: "show", args: []string{"show", "42"}},
		{name: "show_json", args: []string{"show", "42", "--format", "json"}},
		{name: "show_rejected", args: []string{"get", "a1b2c3"}},
		{name: "show_not_found", args: []string{"show", "7"}},
		{name: "show_no_id", args: []string{"show"}},
		{name: "show_bad_format", args: []string{"show", "42", "--format", "quiet"}},
		{name: "rerun", args: []string{"rerun", "42"}},
		{name: "rerun_not_failed", args: []string{"rerun", "a1b2c3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newFakeReceiver(t)
			t.Setenv("HFHOOKS_UI_TOKEN", opToken)
			if tt.noToken {
				t.Setenv("HFHOOKS_UI_TOKEN", "")
			}
			args := append(append([]string{"deliveries"}, tt.args...), "--server", rcv.URL)
			var out, errOut bytes.Buffer
			code := execute(t.Context(), args, &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			var b strings.Builder
			fmt.Fprintf(&b, "$ hfhooks deliveries %s\nexit: %d\n--- requests\n", strings.Join(tt.args, " "), code)
			rcv.mu.Lock()
			for _, r := range rcv.requests {
				b.WriteString(r + "\n")
			}
			rcv.mu.Unlock()
			fmt.Fprintf(&b, "--- stdout\n%s--- stderr\n%s", out.String(), errOut.String())
			got := strings.ReplaceAll(b.String(), rcv.URL, "$SERVER")
			if strings.Contains(got, opToken) {
				t.Errorf("output reveals the operator token:\n%s", got)
			}
			golden(t, "deliveries/"+tt.name+".golden", []byte(got))
		})
	}
}

func TestDeliveriesBadServer(t *testing.T) {
	for _, server := range []string{"ftp://127.0.0.1/?token=abc", "http://127.0.0.1:7860/?token=abc", "127.0.0.1:7860"} {
		var out, errOut bytes.Buffer
		code := execute(t.Context(), []string{"deliveries", "ls", "--server", server}, &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		if code != exitUsage || !strings.Contains(errOut.String(), "want the receiver's http:// or https:// URL") || strings.Contains(errOut.String(), "abc") {
			t.Errorf("--server %s: exit %d, stderr %q", server, code, errOut.String())
		}
	}
}

// TestDeliveriesAgainstAReceiver runs the commands against a real receiver
// whose page is private: the operator token lets them in.
func TestDeliveriesAgainstAReceiver(t *testing.T) {
	t.Setenv("HFHOOKS_UI_TOKEN", "")
	srv := hfhooks.NewServer(hfhooks.WithSecret("s3cret"), hfhooks.WithAccess(hfhooks.AccessPrivate), hfhooks.WithOperatorToken(opToken),
		hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard))
	if err := srv.AddEndpoint("retrain", func(context.Context, *hfhooks.Delivery) (any, error) {
		return nil, hfhooks.Error("training cluster unreachable", http.StatusBadGateway)
	}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	resp, err := hubtest.Send(t.Context(), ts.URL+"/webhooks/retrain", "s3cret", hubtest.Event{Kind: "repo.content", Repo: "dataset:acme/reviews"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		args = append(append([]string{"deliveries"}, args...), "--server", ts.URL)
		code := execute(t.Context(), args, &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		if strings.Contains(out.String()+errOut.String(), opToken) {
			t.Errorf("hfhooks %s prints the operator token", strings.Join(args, " "))
		}
		return code, out.String(), errOut.String()
	}
	if code, _, stderr := run("ls"); code != exitFailure || !strings.Contains(stderr, "401 Unauthorized") || !strings.Contains(stderr, "set HFHOOKS_UI_TOKEN") {
		t.Errorf("ls without the token: exit %d, %s", code, stderr)
	}
	code, id, stderr := run("ls", "--format", "quiet", "--ui-token", opToken)
	id = strings.TrimSpace(id)
	if code != exitOK || id == "" || strings.Contains(id, "\n") {
		t.Fatalf("ls --format quiet: exit %d, %q %s", code, id, stderr)
	}
	code, stdout, stderr := run("show", id, "--ui-token", opToken)
	for _, want := range []string{"bad gateway 502 → failed", "1  502 → failed", "training cluster unreachable", `"name": "acme/reviews"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("show lacks %q: exit %d\n%s%s", want, code, stdout, stderr)
		}
	}
	if code, _, stderr := run("rerun", id, "--ui-token", opToken); code != exitFailure || !strings.Contains(stderr, "needs a durable queue") {
		t.Errorf("rerun in sync mode: exit %d, %s", code, stderr)
	}
}
