package hubtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hubtest"
)

func TestNewDelivery(t *testing.T) {
	t.Parallel()
	d, err := hubtest.NewDelivery(hubtest.Event{Kind: "discussion.create", Repo: "space:acme/demo", Set: map[string]string{"discussion.isPullRequest": "false"}})
	if err != nil {
		t.Fatal(err)
	}
	p := d.Payload
	if p.Event.Scope != "discussion" || p.Event.Action != hfhooks.ActionCreate || p.Repo.Type != hfhooks.RepoSpace || p.Repo.Name != "acme/demo" {
		t.Errorf("payload: %+v %+v", p.Event, p.Repo)
	}
	if p.Discussion == nil || p.Discussion.IsPullRequest {
		t.Errorf("discussion: %+v, want a plain discussion", p.Discussion)
	}
	if again, err := hfhooks.DecodePayload(d.Body); err != nil || again.Repo.Name != "acme/demo" {
		t.Errorf("Body does not decode to the payload: %v", err)
	}
	if d.ID == "" || d.Endpoint != "test" || d.ReceivedAt.IsZero() || d.Header.Get("Content-Type") != "application/json" {
		t.Errorf("delivery: %+v", d)
	}

	for _, ev := range []struct {
		ev   hubtest.Event
		want string
	}{
		{hubtest.Event{Kind: "repo.push"}, `unknown kind "repo.push"`},
		{hubtest.Event{Kind: "repo.update", Repo: "acme/demo"}, "want TYPE:NAME"},
		{hubtest.Event{Kind: "repo.update", Set: map[string]string{"webhook.version": "2"}}, "unsupported webhook version"},
	} {
		if _, err := hubtest.NewDelivery(ev.ev); err == nil || !strings.Contains(err.Error(), ev.want) {
			t.Errorf("NewDelivery(%+v) = %v, want an error saying %s", ev.ev, err, ev.want)
		}
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	srv := hfhooks.NewServer(hfhooks.WithSecret("s3cret"), hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard))
	if err := srv.AddEndpoint("hook", func(_ context.Context, d *hfhooks.Delivery) (any, error) {
		return d.Payload.Repo.Name, nil
	}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ctx := context.Background()
	ev := hubtest.Event{Kind: "repo.content", Repo: "dataset:acme/reviews"}
	for _, tt := range []struct {
		secret string
		code   int
		body   any
	}{
		{"s3cret", http.StatusOK, "acme/reviews"},
		{"", http.StatusUnauthorized, map[string]any{"error": "x-webhook-secret header not set."}},
		{"wrong", http.StatusForbidden, map[string]any{"error": "Invalid webhook secret."}},
	} {
		resp, err := hubtest.Send(ctx, ts.URL+"/webhooks/hook", tt.secret, ev)
		if err != nil {
			t.Fatal(err)
		}
		var body any
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tt.code || !reflect.DeepEqual(body, tt.body) {
			t.Errorf("secret %q: %d %v (%v), want %d %v", tt.secret, resp.StatusCode, body, err, tt.code, tt.body)
		}
	}

	if _, err := hubtest.Send(ctx, ts.URL+"/webhooks/hook", "s3cret", hubtest.Event{Kind: "nope"}); err == nil {
		t.Error("Send of an unknown kind: no error")
	}
	// A failed request's error shows no query value.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err := hubtest.Send(ctx, closed.URL+"/webhooks/hook?secret=hush", "", ev)
	if err == nil || strings.Contains(err.Error(), "hush") {
		t.Errorf("Send to a closed server: %v, want an error without the query value", err)
	}
	var opErr interface{ Timeout() bool }
	if !errors.As(err, &opErr) {
		t.Errorf("Send's error %v does not wrap the client's", err)
	}
}
