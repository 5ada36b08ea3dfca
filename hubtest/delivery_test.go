package hubtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
)

func watch(typ hub.WatchedType, name string) []hub.WatchedItem {
	return []hub.WatchedItem{{Type: typ, Name: name}}
}

// TestMatching: a user or org watch gets the events of repos under that
// namespace, a repo watch only that repo of that type, domains filter by
// scope prefix, and disabled webhooks get nothing.
func TestMatching(t *testing.T) {
	srv := newHub(t)
	c := client(t, srv, srv.Token)
	rcv := newReceiver(t, "s3cret")
	mk := func(watched []hub.WatchedItem, domains ...hub.Domain) string {
		return create(t, c, hub.CreateWebhookOptions{URL: rcv.URL, Secret: "s3cret", Watched: watched, Domains: domains}).ID
	}
	var (
		user       = mk(watch(hub.WatchedUser, "alice"))
		org        = mk(watch(hub.WatchedOrg, "acme"))
		model      = mk(watch(hub.WatchedModel, "acme/m"))
		dataset    = mk(watch(hub.WatchedDataset, "acme/m")) // same name, other type
		repoOnly   = mk(watch(hub.WatchedOrg, "acme"), hub.DomainRepo)
		discOnly   = mk(watch(hub.WatchedOrg, "acme"), hub.DomainDiscussion)
		disabled   = mk(watch(hub.WatchedOrg, "acme"))
		otherModel = mk(watch(hub.WatchedModel, "acme/other"))
	)
	if _, err := c.DisableWebhook(ctxT(t), disabled); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind, repo string
		want       []string
	}{
		{"repo.content", "model:acme/m", []string{org, model, repoOnly}},
		{"repo.config", "model:acme/m", []string{org, model, repoOnly}},
		{"discussion.create", "model:acme/m", []string{org, model, discOnly}},
		{"discussion.comment.update", "model:acme/m", []string{org, model, discOnly}},
		{"repo.create", "dataset:acme/m", []string{org, dataset, repoOnly}},
		{"repo.update", "space:alice/demo", []string{user}},
		{"repo.delete", "model:alicex/m", nil},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.repo, func(t *testing.T) {
			before := len(rcv.deliveries())
			e := emit(t, srv, hubtest.Event{Kind: tt.kind, Repo: tt.repo})
			var sent []string
			for _, d := range e.Deliveries {
				sent = append(sent, d.WebhookID)
				if d.State != hubtest.StatePending || d.EventID != e.EventID || d.Repo != tt.repo || d.Kind != tt.kind {
					t.Errorf("delivery %+v", d)
				}
			}
			if !slices.Equal(sent, tt.want) {
				t.Errorf("sent to %v, want %v", sent, tt.want)
			}
			idle(t, srv)
			got := rcv.byWebhook()[before:]
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("receiver got webhooks %v, want %v", got, want)
			}
			for _, d := range rcv.deliveries()[before:] {
				if d.Header.Get("Content-Type") != "application/json" || d.Header.Get("X-Webhook-Secret") != "s3cret" {
					t.Errorf("headers %v", d.Header)
				}
				if string(d.Payload.Repo.Type)+":"+d.Payload.Repo.Name != tt.repo {
					t.Errorf("payload repo %s:%s", d.Payload.Repo.Type, d.Payload.Repo.Name)
				}
			}
		})
	}
	checkPayloads(t, srv, user, org, model, dataset, repoOnly, discOnly, disabled, otherModel)
	if a := activity(t, srv, disabled); len(a) != 0 {
		t.Errorf("disabled webhook has activity %+v", a)
	}
}

// TestEveryKind: every kind is delivered, decodes with the receiver's
// decoder and carries the receiving webhook's id; overrides apply.
func TestEveryKind(t *testing.T) {
	srv := newHub(t)
	rcv := newReceiver(t, "s3cret")
	w := create(t, client(t, srv, srv.Token), hub.CreateWebhookOptions{URL: rcv.URL, Secret: "s3cret", Watched: watch(hub.WatchedUser, "acme")})
	for _, kind := range hubtest.Kinds() {
		e := emit(t, srv, hubtest.Event{Kind: kind, Repo: "space:acme/demo", Set: map[string]string{"repo.private": "true", "extra.note": "hi"}})
		d, err := srv.WaitForDelivery(ctxT(t), e.Deliveries[0].ID)
		if err != nil || d.State != hubtest.StateDelivered || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 200 {
			t.Errorf("%s: %+v, %v", kind, d, err)
		}
		scope, action := kind, "update"
		if i := strings.LastIndexByte(kind, '.'); kind != "repo.content" && kind != "repo.config" {
			scope, action = kind[:i], kind[i+1:]
		}
		if d.Scope != scope || d.Action != action {
			t.Errorf("%s: scope %q action %q", kind, d.Scope, d.Action)
		}
	}
	got := rcv.deliveries()
	if len(got) != len(hubtest.Kinds()) {
		t.Fatalf("receiver got %d deliveries", len(got))
	}
	for _, d := range got {
		if d.Payload.Webhook.ID != w.ID || !d.Payload.Repo.Private || !strings.Contains(string(d.Body), `"extra":{"note":"hi"}`) {
			t.Errorf("payload %s", d.Body)
		}
	}
	checkPayloads(t, srv, w.ID)
}

func TestEmitErrors(t *testing.T) {
	srv := newHub(t)
	for _, ev := range []hubtest.Event{
		{Kind: "repo.explode"},
		{Kind: "repo.update", Repo: "acme/m"},
		{Kind: "repo.update", Repo: "bucket:acme/m"},
		{Kind: "repo.update", Set: map[string]string{"repo.name.x": "1"}},
		{Kind: "repo.update", Set: map[string]string{"event.scope": "1"}},
		{Kind: "repo.update", Set: map[string]string{"webhook": "null"}},
	} {
		if e, err := srv.Emit(ctxT(t), ev); err == nil {
			t.Errorf("Emit(%+v) = %+v, want an error", ev, e)
		}
	}
}

// TestRetriesUntilFixed: a receiver that refuses the secret makes the
// delivery fail and be retried; once the receiver is fixed, a retry
// succeeds.
func TestRetriesUntilFixed(t *testing.T) {
	srv := newHub(t, hubtest.WithRetrySchedule(slices.Repeat([]time.Duration{10 * time.Millisecond}, 300)...))
	rcv := newReceiver(t, "old-secret")
	w := create(t, client(t, srv, srv.Token), hub.CreateWebhookOptions{URL: rcv.URL, Secret: "new-secret", Watched: watch(hub.WatchedUser, "acme")})
	e := emit(t, srv, hubtest.Event{Kind: "repo.content", Repo: "model:acme/m"})
	id := e.Deliveries[0].ID

	deadline := time.Now().Add(5 * time.Second)
	for a := activity(t, srv, w.ID)[0]; len(a.Attempts) < 2; a = activity(t, srv, w.ID)[0] {
		if time.Now().After(deadline) {
			t.Fatalf("no retry: %+v", a)
		}
		time.Sleep(time.Millisecond)
	}
	rcv.setSecret(t, "new-secret")
	d, err := srv.WaitForDelivery(ctxT(t), id)
	if err != nil || d.State != hubtest.StateDelivered {
		t.Fatalf("%+v, %v", d, err)
	}
	n := len(d.Attempts)
	for i, a := range d.Attempts {
		want := http.StatusForbidden
		if i == n-1 {
			want = http.StatusOK
		}
		if a.StatusCode != want || a.URL != rcv.URL || (want == 403 && !strings.Contains(a.Error, "Invalid webhook secret")) {
			t.Errorf("attempt %d: %+v, want %d", i, a, want)
		}
	}
	if n < 3 || len(rcv.deliveries()) != 1 {
		t.Errorf("%d attempts, %d received", n, len(rcv.deliveries()))
	}
}

// TestFailures: with no retry the first failure is final; a timeout, a
// refused connection and a redirect are failures too.
func TestFailures(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client leave
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	redirect := httptest.NewServer(http.RedirectHandler("https://example.com/", http.StatusFound))
	t.Cleanup(redirect.Close)

	srv := newHub(t, hubtest.WithRetrySchedule(), hubtest.WithTimeout(300*time.Millisecond)) // room for a dial on a loaded machine
	c := client(t, srv, srv.Token)
	for i, tt := range []struct{ url, wantErr string }{
		{slow.URL, "no answer within 300ms"},
		{closed, "connection refused"},
		{closed + "?token=SEKRET", "connection refused"},
		{redirect.URL, ""},
	} {
		name := "u" + strconv.Itoa(i)
		create(t, c, hub.CreateWebhookOptions{URL: tt.url, Watched: watch(hub.WatchedUser, name)})
		e := emit(t, srv, hubtest.Event{Kind: "repo.update", Repo: "model:" + name + "/m"})
		d, err := srv.WaitForDelivery(ctxT(t), e.Deliveries[0].ID)
		if err != nil || d.State != hubtest.StateFailed || len(d.Attempts) != 1 || !strings.Contains(d.Attempts[0].Error, tt.wantErr) {
			t.Errorf("%s: %+v, %v", tt.url, d, err)
		}
		if want := strings.ReplaceAll(tt.url, "SEKRET", "xxxxx"); d.Attempts[0].URL != want {
			t.Errorf("attempt URL = %q; want %q", d.Attempts[0].URL, want)
		}
		if tt.wantErr == "" && d.Attempts[0].StatusCode != http.StatusFound {
			t.Errorf("redirect: %+v", d.Attempts[0])
		}
	}
}

// TestSuspension: after N events in a row fail, the webhook is disabled and
// its activity says why; a success in between resets the count, and
// enabling it again starts a new count.
func TestSuspension(t *testing.T) {
	srv := newHub(t, hubtest.WithSuspendAfter(3), hubtest.WithRetrySchedule(time.Millisecond))
	rcv := newReceiver(t, "right")
	c := client(t, srv, srv.Token)
	w := create(t, c, hub.CreateWebhookOptions{URL: rcv.URL, Secret: "wrong", Watched: watch(hub.WatchedUser, "acme")})
	ev := hubtest.Event{Kind: "repo.update", Repo: "model:acme/m"}
	emitIdle := func(n int) {
		for range n {
			emit(t, srv, ev)
		}
		idle(t, srv)
	}

	emitIdle(2)
	rcv.setSecret(t, "wrong")
	emitIdle(1) // a success resets the count
	rcv.setSecret(t, "right")
	emitIdle(2)
	if got, _ := c.GetWebhook(ctxT(t), w.ID); got.Disabled {
		t.Fatal("suspended although no 3 events in a row failed")
	}
	emitIdle(1) // the third failure in a row
	got, err := c.GetWebhook(ctxT(t), w.ID)
	if err != nil || !got.Disabled {
		t.Fatalf("not suspended: %+v, %v", got, err)
	}
	a := activity(t, srv, w.ID)
	if a[0].State != hubtest.StateFailed || !strings.Contains(a[0].Reason, "suspended after 3 failed events in a row") || len(a[0].Attempts) != 2 {
		t.Errorf("last delivery: %+v", a[0])
	}
	var answer struct{ Suspended string }
	getJSON(t, "GET", srv.URL+"/api/emulator/webhooks/"+w.ID+"/activity", srv.Token, &answer)
	if !strings.Contains(answer.Suspended, "suspended after 3") {
		t.Errorf("activity API suspended = %q", answer.Suspended)
	}
	if e := emit(t, srv, ev); len(e.Deliveries) != 0 {
		t.Errorf("suspended webhook got %+v", e.Deliveries)
	}

	if _, err := c.EnableWebhook(ctxT(t), w.ID); err != nil {
		t.Fatal(err)
	}
	emitIdle(1)
	if got, _ := c.GetWebhook(ctxT(t), w.ID); got.Disabled {
		t.Error("suspended again after one failure: enable did not reset the count")
	}
}

// TestQueuedWhileDisabled: events queued before a webhook is suspended are
// skipped, not sent.
func TestQueuedWhileDisabled(t *testing.T) {
	srv := newHub(t, hubtest.WithSuspendAfter(1), hubtest.WithRetrySchedule())
	rcv := newReceiver(t, "right")
	w := create(t, client(t, srv, srv.Token), hub.CreateWebhookOptions{URL: rcv.URL, Secret: "wrong", Watched: watch(hub.WatchedUser, "acme")})
	for range 5 {
		emit(t, srv, hubtest.Event{Kind: "repo.update", Repo: "model:acme/m"})
	}
	idle(t, srv)
	a := activity(t, srv, w.ID)
	if first := a[len(a)-1]; first.State != hubtest.StateFailed || !strings.Contains(first.Reason, "suspended") {
		t.Fatalf("first delivery %+v", first)
	}
	for _, d := range a[:len(a)-1] {
		if d.State != hubtest.StateSkipped || d.Reason != "the webhook is disabled" || len(d.Attempts) != 0 {
			t.Errorf("delivery after suspension: %+v", d)
		}
	}
}

// TestRateLimit: events past the limit are recorded as rate-limited and not
// sent; the window slides.
func TestRateLimit(t *testing.T) {
	srv := newHub(t, hubtest.WithRateLimit(3, time.Hour))
	rcv := newReceiver(t, "s")
	w := create(t, client(t, srv, srv.Token), hub.CreateWebhookOptions{URL: rcv.URL, Secret: "s", Watched: watch(hub.WatchedOrg, "acme")})
	var states []hubtest.State
	for range 5 {
		e := emit(t, srv, hubtest.Event{Kind: "repo.update", Repo: "model:acme/m"})
		states = append(states, e.Deliveries[0].State)
	}
	want := []hubtest.State{hubtest.StatePending, hubtest.StatePending, hubtest.StatePending, hubtest.StateRateLimited, hubtest.StateRateLimited}
	if !slices.Equal(states, want) {
		t.Errorf("states %v, want %v", states, want)
	}
	idle(t, srv)
	if n := len(rcv.deliveries()); n != 3 {
		t.Errorf("receiver got %d, want 3", n)
	}
	a := activity(t, srv, w.ID)
	if a[0].State != hubtest.StateRateLimited || len(a[0].Attempts) != 0 || !strings.Contains(a[0].Reason, "rate limit of 3 events per 1h0m0s") {
		t.Errorf("newest: %+v", a[0])
	}
	var answer struct {
		RateLimit struct {
			Used, Limit int
			Window      string
		}
		Activity []hubtest.Delivery
	}
	getJSON(t, "GET", srv.URL+"/api/emulator/webhooks/"+w.ID+"/activity", srv.Token, &answer)
	if answer.RateLimit.Used != 3 || answer.RateLimit.Limit != 3 || answer.RateLimit.Window != "1h0m0s" || len(answer.Activity) != 5 {
		t.Errorf("activity API: %+v", answer)
	}

	short := newHub(t, hubtest.WithRateLimit(1, 50*time.Millisecond))
	create(t, client(t, short, short.Token), hub.CreateWebhookOptions{URL: rcv.URL, Secret: "s", Watched: watch(hub.WatchedOrg, "acme")})
	emit(t, short, hubtest.Event{Kind: "repo.update", Repo: "model:acme/m"})
	if e := emit(t, short, hubtest.Event{Kind: "repo.update", Repo: "model:acme/m"}); e.Deliveries[0].State != hubtest.StateRateLimited {
		t.Errorf("second event in the window: %+v", e.Deliveries[0])
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		e := emit(t, short, hubtest.Event{Kind: "repo.update", Repo: "model:acme/m"})
		if e.Deliveries[0].State == hubtest.StatePending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rate limit window never passed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReplayAfterURLChange: Replay sends the same payload to the webhook's
// current URL with its current secret.
func TestReplayAfterURLChange(t *testing.T) {
	srv := newHub(t)
	c := client(t, srv, srv.Token)
	first, second := newReceiver(t, "one"), newReceiver(t, "two")
	w := create(t, c, hub.CreateWebhookOptions{URL: first.URL, Secret: "one", Watched: watch(hub.WatchedUser, "acme")})
	e := emit(t, srv, hubtest.Event{Kind: "discussion.create", Repo: "model:acme/m"})
	if d, err := srv.WaitForDelivery(ctxT(t), e.Deliveries[0].ID); err != nil || d.State != hubtest.StateDelivered {
		t.Fatalf("%+v, %v", d, err)
	}
	if _, err := c.UpdateWebhook(ctxT(t), w.ID, hub.UpdateWebhookOptions{URL: hub.Ptr(second.URL), Secret: hub.Ptr("two")}); err != nil {
		t.Fatal(err)
	}
	d, err := srv.Replay(ctxT(t), w.ID, e.EventID)
	if err != nil || d.State != hubtest.StateDelivered || !d.Replay || d.EventID != e.EventID || d.ID == e.Deliveries[0].ID || d.Attempts[0].URL != second.URL {
		t.Fatalf("replay = %+v, %v", d, err)
	}
	if len(first.deliveries()) != 1 || len(second.deliveries()) != 1 || string(first.deliveries()[0].Body) != string(second.deliveries()[0].Body) {
		t.Fatalf("first got %d, second got %d, or bodies differ", len(first.deliveries()), len(second.deliveries()))
	}

	// Over HTTP: 202 with the queued delivery.
	var answer struct{ Delivery hubtest.Delivery }
	code := getJSON(t, "POST", srv.URL+"/api/emulator/webhooks/"+w.ID+"/activity/"+e.EventID+"/replay", srv.Token, &answer)
	if code != http.StatusAccepted || !answer.Delivery.Replay || answer.Delivery.EventID != e.EventID {
		t.Fatalf("replay API: %d %+v", code, answer)
	}
	if d, err := srv.WaitForDelivery(ctxT(t), answer.Delivery.ID); err != nil || d.State != hubtest.StateDelivered || len(second.deliveries()) != 2 {
		t.Fatalf("%+v, %v", d, err)
	}
	if code := getJSON(t, "POST", srv.URL+"/api/emulator/webhooks/"+w.ID+"/activity/000000000000000000000000/replay", srv.Token, nil); code != http.StatusNotFound {
		t.Errorf("replay of an unknown event: %d", code)
	}
	if _, err := srv.Replay(ctxT(t), "000000000000000000000000", e.EventID); !errors.Is(err, hubtest.ErrNotFound) {
		t.Errorf("Replay to an unknown webhook: %v", err)
	}
	checkPayloads(t, srv, w.ID)
}

// TestOrderPerWebhook: each webhook gets its events in the order they
// happened, even when an early one is retried.
func TestOrderPerWebhook(t *testing.T) {
	srv := newHub(t)
	c := client(t, srv, srv.Token)
	rcvs := []*receiver{newReceiver(t, "s"), newReceiver(t, "s")}
	rcvs[0].fail.Store(2) // the first event is retried twice
	for _, r := range rcvs {
		create(t, c, hub.CreateWebhookOptions{URL: r.URL, Secret: "s", Watched: watch(hub.WatchedUser, "acme")})
	}
	const n = 40
	for i := range n {
		emit(t, srv, hubtest.Event{Kind: "repo.content", Repo: "model:acme/m", Set: map[string]string{"seq": strconv.Itoa(i)}})
	}
	idle(t, srv)
	for ri, r := range rcvs {
		var seqs []int
		for _, d := range r.deliveries() {
			var p struct{ Seq int }
			if err := json.Unmarshal(d.Body, &p); err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, p.Seq)
		}
		if len(seqs) != n || !slices.IsSorted(seqs) {
			t.Errorf("receiver %d got %v", ri, seqs)
		}
	}
}

// TestJobWebhook: a job webhook records the Job run with the environment
// the Hub gives a Job, instead of POSTing.
func TestJobWebhook(t *testing.T) {
	srv := newHub(t)
	w := create(t, client(t, srv, srv.Token), hub.CreateWebhookOptions{JobID: "687f911eaea852de79c4a50a", Secret: "job-secret", Watched: watch(hub.WatchedDataset, "acme/d")})
	e := emit(t, srv, hubtest.Event{Kind: "repo.content", Repo: "dataset:acme/d"})
	d, err := srv.WaitForDelivery(ctxT(t), e.Deliveries[0].ID)
	if err != nil || d.State != hubtest.StateJobStarted || len(d.Attempts) != 0 || d.Job == nil || d.Job.JobSourceID != "687f911eaea852de79c4a50a" {
		t.Fatalf("%+v, %v", d, err)
	}
	env := d.Job.Env
	p, err := hfhooks.DecodePayload([]byte(env["WEBHOOK_PAYLOAD"]))
	if err != nil || p.Webhook.ID != w.ID || p.Repo.HeadSha == "" {
		t.Errorf("WEBHOOK_PAYLOAD: %v %+v", err, p)
	}
	if env["WEBHOOK_REPO_ID"] != "acme/d" || env["WEBHOOK_REPO_TYPE"] != "dataset" || env["WEBHOOK_SECRET"] != "job-secret" || len(env) != 4 {
		t.Errorf("env %v", env)
	}
	checkPayloads(t, srv, w.ID)
}

// TestEmitTo: the events API, through the Go helper the CLI uses.
func TestEmitTo(t *testing.T) {
	srv := newHub(t)
	rcv := newReceiver(t, "s")
	w := create(t, client(t, srv, srv.Token), hub.CreateWebhookOptions{URL: rcv.URL, Secret: "s", Watched: watch(hub.WatchedSpace, "acme/demo")})
	e, err := hubtest.EmitTo(ctxT(t), nil, srv.URL, srv.Token, hubtest.Event{Kind: "repo.config", Repo: "space:acme/demo",
		Set: map[string]string{"updatedConfig": "{}", "repo.subdomain": "not json"}}, 5*time.Second)
	if err != nil || len(e.Deliveries) != 1 || e.Deliveries[0].State != hubtest.StateDelivered || e.Scope != "repo.config" || e.Action != "update" {
		t.Fatalf("%+v, %v", e, err)
	}
	body := string(rcv.deliveries()[0].Body)
	if !strings.Contains(body, `"updatedConfig":{}`) || !strings.Contains(body, `"subdomain":"not json"`) || !strings.Contains(body, w.ID) {
		t.Errorf("payload %s", body)
	}
	for _, tt := range []struct{ token, kind, want string }{
		{srv.Token, "repo.nope", `400 Bad Request: unknown kind "repo.nope"`},
		{"hf_wrong", "repo.update", "401 Unauthorized: Invalid credentials"},
	} {
		if _, err := hubtest.EmitTo(ctxT(t), nil, srv.URL, tt.token, hubtest.Event{Kind: tt.kind}, 0); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("EmitTo(%s): %v, want %q", tt.kind, err, tt.want)
		}
	}
	if code := getJSON(t, "POST", srv.URL+"/api/emulator/events?wait=forever", srv.Token, nil); code != http.StatusBadRequest {
		t.Errorf("bad wait: %d", code)
	}
}

// TestWait: the waits end with their context, unknown ids are errors, and
// Close ends pending deliveries.
func TestWait(t *testing.T) {
	srv := newHub(t, hubtest.WithRetrySchedule(time.Hour))
	rcv := newReceiver(t, "right")
	create(t, client(t, srv, srv.Token), hub.CreateWebhookOptions{URL: rcv.URL, Secret: "wrong", Watched: watch(hub.WatchedUser, "acme")})
	e := emit(t, srv, hubtest.Event{Kind: "repo.update", Repo: "model:acme/m"})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if d, err := srv.WaitForDelivery(ctx, e.Deliveries[0].ID); !errors.Is(err, context.DeadlineExceeded) || d.State != hubtest.StatePending {
		t.Errorf("WaitForDelivery = %+v, %v", d, err)
	}
	if err := srv.WaitIdle(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitIdle = %v", err)
	}
	if _, err := srv.WaitForDelivery(ctxT(t), "nope"); !errors.Is(err, hubtest.ErrNotFound) {
		t.Errorf("unknown delivery: %v", err)
	}
	if _, err := srv.Activity("nope"); !errors.Is(err, hubtest.ErrNotFound) {
		t.Errorf("unknown webhook: %v", err)
	}
	srv.Close()
	a := activity(t, srv, e.Deliveries[0].WebhookID)
	if a[0].State != hubtest.StateSkipped || a[0].Reason != "the hub closed" {
		t.Errorf("after Close: %+v", a[0])
	}
	if _, err := srv.Emit(ctxT(t), hubtest.Event{Kind: "repo.update"}); err == nil {
		t.Error("Emit after Close succeeded")
	}
	if _, err := srv.Replay(ctxT(t), e.Deliveries[0].WebhookID, e.EventID); err == nil {
		t.Error("Replay after Close succeeded")
	}
}
