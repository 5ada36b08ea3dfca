package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/sample"
)

// recorder is a receiver that records the requests it gets and answers with
// a fixed status and body.
type recorder struct {
	status int
	body   string

	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path string
	header       http.Header
	body         []byte
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, recorded{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body})
	rec.mu.Unlock()
	w.WriteHeader(rec.status)
	io.WriteString(w, rec.body)
}

// only returns the single request the receiver got.
func (rec *recorder) only(t *testing.T) recorded {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(rec.reqs))
	}
	return rec.reqs[0]
}

// newReceiver starts a recorder answering status and body.
func newReceiver(t *testing.T, status int, body string) (*recorder, *httptest.Server) {
	t.Helper()
	rec := &recorder{status: status, body: body}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv
}

func TestTriggerSends(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, p *hfhooks.Payload)
	}{
		{"defaults", nil, func(t *testing.T, p *hfhooks.Payload) {
			if p.Repo.Type != hfhooks.RepoModel || p.Repo.Name != "acme/sentiment-model" {
				t.Errorf("repo = %s %s, want the default model", p.Repo.Type, p.Repo.Name)
			}
		}},
		{"--repo", []string{"--repo", "space:Wauplin/my-space"}, func(t *testing.T, p *hfhooks.Payload) {
			if p.Repo.Type != hfhooks.RepoSpace || p.Repo.Name != "Wauplin/my-space" || p.Repo.URL.Web != "https://huggingface.co/spaces/Wauplin/my-space" {
				t.Errorf("repo = %s %s %s, want the space Wauplin/my-space", p.Repo.Type, p.Repo.Name, p.Repo.URL.Web)
			}
		}},
		{"--repo name with a colon", []string{"--repo", "dataset:org/a:b"}, func(t *testing.T, p *hfhooks.Payload) {
			if p.Repo.Type != hfhooks.RepoDataset || p.Repo.Name != "org/a:b" {
				t.Errorf("repo = %s %s, want the dataset org/a:b (split at the first colon)", p.Repo.Type, p.Repo.Name)
			}
		}},
		{"--set", []string{"--set", "repo.private=true", "--set", "updatedRefs.0.ref=refs/tags/v1.0"}, func(t *testing.T, p *hfhooks.Payload) {
			if !p.Repo.Private || p.UpdatedRefs[0].Ref != "refs/tags/v1.0" {
				t.Errorf("private = %v, ref = %s; want the --set values", p.Repo.Private, p.UpdatedRefs[0].Ref)
			}
		}},
		{"--webhook-id", []string{"--webhook-id", "6390e855e30d9209411de93b"}, func(t *testing.T, p *hfhooks.Payload) {
			if p.Webhook.ID != "6390e855e30d9209411de93b" {
				t.Errorf("webhook.id = %s, want the --webhook-id value", p.Webhook.ID)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, srv := newReceiver(t, http.StatusAccepted, `{"processed":true}`)
			args := append([]string{"repo.content", "--url", srv.URL + "/webhooks/sync", "--secret", "s3cret"}, tt.args...)
			code, out, errOut := run(t, append([]string{"trigger"}, args...)...)
			if code != exitOK {
				t.Fatalf("trigger: exit %d: %s", code, errOut)
			}
			if want := "HTTP/1.1 202 Accepted\n{\"processed\":true}\n"; out != want {
				t.Errorf("stdout = %q, want %q", out, want)
			}
			req := rec.only(t)
			if req.method != http.MethodPost || req.path != "/webhooks/sync" {
				t.Errorf("request = %s %s, want POST /webhooks/sync", req.method, req.path)
			}
			if got := req.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if got := req.header.Get("X-Webhook-Secret"); got != "s3cret" {
				t.Errorf("X-Webhook-Secret = %q, want s3cret", got)
			}
			p, err := hfhooks.DecodePayload(req.body)
			if err != nil {
				t.Fatalf("DecodePayload: %v\n%s", err, req.body)
			}
			if p.Event.Scope != hfhooks.ScopeRepoContent || p.Event.Action != hfhooks.ActionUpdate {
				t.Errorf("event = %+v, want update on repo.content", p.Event)
			}
			tt.check(t, p)
		})
	}
}

func TestTriggerSecret(t *testing.T) {
	tests := []struct {
		name, env string
		args      []string
		want      []string // the X-Webhook-Secret values; nil when absent
	}{
		{"none", "", nil, nil},
		{"flag", "", []string{"--secret", "flag"}, []string{"flag"}},
		{"environment", "env", nil, []string{"env"}},
		{"flag over environment", "env", []string{"--secret", "flag"}, []string{"flag"}},
		{"empty flag over environment", "env", []string{"--secret", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WEBHOOK_SECRET", tt.env)
			rec, srv := newReceiver(t, http.StatusOK, "")
			if code, _, errOut := run(t, append([]string{"trigger", "repo.create", "--url", srv.URL}, tt.args...)...); code != exitOK {
				t.Fatalf("trigger: exit %d: %s", code, errOut)
			}
			got := rec.only(t).header.Values("X-Webhook-Secret")
			if strings.Join(got, ",") != strings.Join(tt.want, ",") || len(got) != len(tt.want) {
				t.Errorf("X-Webhook-Secret = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTriggerExitCodes runs the whole command line, as main does.
func TestTriggerExitCodes(t *testing.T) {
	_, ok := newReceiver(t, http.StatusOK, "thanks")
	_, failing := newReceiver(t, http.StatusInternalServerError, `{"error":"boom"}`)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string
		stderrHas []string
	}{
		{"2xx", []string{"repo.create", "--url", ok.URL}, exitOK, "HTTP/1.1 200 OK\nthanks\n", nil},
		{"500", []string{"repo.create", "--url", failing.URL}, exitFailure, "HTTP/1.1 500 Internal Server Error\n{\"error\":\"boom\"}\n",
			[]string{failing.URL, "500 Internal Server Error", "failed delivery"}},
		{"connection refused", []string{"repo.create", "--url", closed.URL + "/hook"}, exitFailure, "", []string{"POST " + closed.URL + "/hook"}},
		{"unknown kind", []string{"repo.rename", "--url", ok.URL}, exitUsage, "", append([]string{`unknown kind "repo.rename"`}, sample.Kinds()...)},
		{"no kind", []string{"--url", ok.URL}, exitUsage, "", []string{"KIND"}},
		{"bad --repo format", []string{"repo.create", "--url", ok.URL, "--repo", "acme/model"}, exitUsage, "", []string{`--repo "acme/model"`, "TYPE:NAME"}},
		{"empty --repo type", []string{"repo.create", "--url", ok.URL, "--repo", ":acme/model"}, exitUsage, "", []string{"TYPE:NAME"}},
		{"unknown --repo type", []string{"repo.create", "--url", ok.URL, "--repo", "bucket:acme/b"}, exitUsage, "", []string{`"bucket"`, "model, dataset, space"}},
		{"bad --repo name", []string{"repo.create", "--url", ok.URL, "--repo", "model:gpt2"}, exitUsage, "", []string{`"gpt2"`, "owner/name"}},
		{"bad --set", []string{"repo.create", "--url", ok.URL, "--set", "repo.name.x=1"}, exitUsage, "", []string{`"repo.name.x"`, "repo.name is a string"}},
		{"--set without =", []string{"repo.create", "--url", ok.URL, "--set", "repo.private"}, exitUsage, "", []string{"path=value"}},
		{"no --url", []string{"repo.create"}, exitUsage, "", []string{"--url is required"}},
		{"bad --url", []string{"repo.create", "--url", "localhost:8000/hook"}, exitUsage, "", []string{`"localhost:8000/hook"`}},
		{"bad flag", []string{"repo.create", "--timeout", "soon"}, exitUsage, "", []string{"--timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := execute(context.Background(), append([]string{"trigger"}, tt.args...), &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, errOut.String())
			}
			if out.String() != tt.stdout {
				t.Errorf("stdout = %q, want %q", out.String(), tt.stdout)
			}
			for _, s := range tt.stderrHas {
				if !strings.Contains(errOut.String(), s) {
					t.Errorf("stderr %q does not contain %q", errOut.String(), s)
				}
			}
		})
	}
}

func TestTriggerTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(srv.Close)
	defer close(release)

	code, _, errOut := run(t, "trigger", "repo.create", "--url", srv.URL, "--timeout", "50ms")
	if code != exitFailure || !strings.Contains(errOut, "no answer within 50ms") {
		t.Errorf("exit %d, stderr %q; want 1 and a message saying there was no answer within 50ms", code, errOut)
	}
}

func TestTriggerDryRun(t *testing.T) {
	// No --url: a dry run sends nothing.
	code, out, errOut := run(t, "trigger", "discussion.comment.create", "--dry-run", "--repo", "dataset:acme/reviews", "--set", "discussion.title=Fix typo", "--webhook-id", "6390e855e30d9209411de93b")
	if code != exitOK {
		t.Fatalf("trigger --dry-run: exit %d: %s", code, errOut)
	}
	if _, err := hfhooks.DecodePayload([]byte(out)); err != nil {
		t.Errorf("DecodePayload(dry-run output): %v", err)
	}
	golden(t, "trigger-dry-run.golden", []byte(stableIDs(out, "6390e855e30d9209411de93b")))
}

// stableIDs replaces the random ids and discussion numbers of a sample
// payload, except keep, with ID1, ID2... in order of appearance and NUM.
func stableIDs(s, keep string) string {
	ids := map[string]string{keep: keep}
	s = regexp.MustCompile(`\b[0-9a-f]{24}\b`).ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := ids[id]; !ok {
			ids[id] = fmt.Sprintf("ID%d", len(ids))
		}
		return ids[id]
	})
	return regexp.MustCompile(`("num": |/discussions/)\d+`).ReplaceAllString(s, "${1}NUM")
}

func TestTriggerHelpListsKinds(t *testing.T) {
	long := triggerLong()
	for _, k := range sample.Kinds() {
		if !strings.Contains(long, "\n  "+k+" ") {
			t.Errorf("help does not list %s on a line of its own:\n%s", k, long)
		}
	}
}
