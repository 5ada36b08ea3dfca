package hfhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks/internal/golden"
)

// getDetail returns the status of GET /api/deliveries/{id} and its body,
// decoded.
func getDetail(t *testing.T, base, id string) (int, DeliveryDetail, string) {
	t.Helper()
	resp, err := http.Get(base + "/api/deliveries/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var d DeliveryDetail
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("GET /api/deliveries/%s: %v: %s", id, err, raw)
		}
	}
	return resp.StatusCode, d, string(raw)
}

// get returns the body of GET url.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// newest returns the newest record of the server's history.
func newest(t *testing.T, ts *testServer) DeliveryRecord {
	t.Helper()
	page, err := ts.history.List(context.Background(), HistoryQuery{Limit: 1})
	if err != nil || len(page.Deliveries) != 1 {
		t.Fatalf("history: %v %v", page, err)
	}
	return page.Deliveries[0]
}

func TestDeliveryDetailSync(t *testing.T) {
	ts := newTestServer(t, WithSecret("s3cret"))
	ts.add(t, "retrain", func(context.Context, *Delivery) (any, error) {
		return nil, fmt.Errorf("training: %w", &StatusError{Code: http.StatusBadGateway, Err: printed{out: "epoch 1\nGET https://hub.example/x?token=hf_abc: cluster unreachable"}})
	})
	ts.add(t, "ok", scopeHandler)
	body := mutate(t, "repo-content-updated-refs.json", set("repo.url.web", "https://example.com/x?token=hf_abc"))
	secret := map[string]string{SecretHeader: "s3cret"}

	post(t, "POST", ts.URL+"/webhooks/retrain", body, secret)
	failed := newest(t, ts)
	code, d, raw := getDetail(t, ts.URL, failed.ID)
	if code != http.StatusOK {
		t.Fatalf("GET /api/deliveries/%s = %d %s", failed.ID, code, raw)
	}
	if d.Delivery.ID != failed.ID || d.Delivery.State != StateFailed {
		t.Errorf("delivery = %+v", d.Delivery)
	}
	if len(d.Attempts) != 1 {
		t.Fatalf("attempts = %+v, want 1", d.Attempts)
	}
	a := d.Attempts[0]
	if a.Number != 1 || a.State != StateFailed || a.StatusCode != http.StatusBadGateway || a.Error != "training: command failed" ||
		a.Output != "epoch 1\nGET https://hub.example/x?token=xxxxx: cluster unreachable" || a.Duration <= 0 || a.Ended.Before(failed.Time) {
		t.Errorf("attempt = %+v", a)
	}
	if strings.Contains(raw, "hf_abc") || !strings.Contains(string(d.Payload), `"web":"https://example.com/x?token=xxxxx"`) {
		t.Errorf("payload shows a URL query value, or not the payload: %s", d.Payload)
	}
	var p Payload
	if err := json.Unmarshal(d.Payload, &p); err != nil || p.Repo.Name != "Wauplin/gradio-user-history" {
		t.Errorf("payload = %v, %v", p.Repo, err)
	}

	// A request refused before its handler: no attempt, and its body kept
	// as a JSON string when it is not JSON.
	post(t, "POST", ts.URL+"/webhooks/ok", []byte("not json"), secret)
	rejected := newest(t, ts)
	code, d, raw = getDetail(t, ts.URL, rejected.ID)
	if code != http.StatusOK || d.Delivery.State != StateRejected || len(d.Attempts) != 0 || string(d.Payload) != `"not json"` {
		t.Errorf("rejected: %d %s", code, raw)
	}
	// The page shows it, and sends it again, as it came.
	page := get(t, ts.URL+"/deliveries/"+rejected.ID)
	if !strings.Contains(page, `<pre id="payload-json">not json</pre>`) || !strings.Contains(page, `--data-binary &#39;not json&#39;</pre>`) {
		t.Errorf("page of the rejected request:\n%s", page)
	}

	code, _, raw = getDetail(t, ts.URL, "nope")
	if code != http.StatusNotFound || !strings.Contains(raw, `no delivery \"nope\"`) {
		t.Errorf("unknown id: %d %s", code, raw)
	}
}

func TestDeliveryPayloadsAreBounded(t *testing.T) {
	t.Parallel()
	var p payloads
	p.keep("big", make([]byte, maxKeptPayload+1))
	for i := range keptPayloads + 1 {
		p.keep(fmt.Sprint(i), []byte("{}"))
	}
	if p.body("big") != nil || p.body("0") != nil {
		t.Error("kept a body over the size limit, or more bodies than the limit")
	}
	if string(p.body("1")) != "{}" || string(p.body(fmt.Sprint(keptPayloads))) != "{}" {
		t.Error("lost one of the last bodies")
	}
}

func TestDeliveryDetailDurable(t *testing.T) {
	fq := &fakeQueue{seen: map[string]string{}}
	ts := newTestServer(t, WithQueue(fq), WithSecret("s"))
	ts.add(t, "hook", scopeHandler)
	post(t, "POST", ts.URL+"/webhooks/hook", fixture(t, "repo-content-updated-refs.json"), map[string]string{SecretHeader: "s"})
	post(t, "POST", ts.URL+"/webhooks/hook", fixture(t, "repo-content-updated-refs.json"), nil) // 401, in memory
	if code, d, raw := getDetail(t, ts.URL, "1"); code != http.StatusOK || d.Delivery.State != StateQueued {
		t.Errorf("queued delivery: %d %s", code, raw)
	}
	refused := newest(t, ts)
	if code, d, raw := getDetail(t, ts.URL, refused.ID); code != http.StatusOK || d.Delivery.StatusCode != http.StatusUnauthorized {
		t.Errorf("refused request: %d %s", code, raw)
	}
	if code, _, raw := getDetail(t, ts.URL, "2"); code != http.StatusNotFound {
		t.Errorf("unknown id: %d %s", code, raw)
	}
}

// mainOf returns the <main> element of a page.
func mainOf(t *testing.T, page []byte) []byte {
	t.Helper()
	start, end := bytes.Index(page, []byte("<main>")), bytes.Index(page, []byte("</main>"))
	if start < 0 || end < start {
		t.Fatalf("no <main> in the page:\n%s", page)
	}
	return page[start : end+len("</main>\n")]
}

// pageOf renders the template name with data.
func pageOf(t *testing.T, name string, data any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		t.Fatal(err)
	}
	return mainOf(t, buf.Bytes())
}

func TestDeliveryPageText(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	rec := DeliveryRecord{ID: "42", Time: at, Endpoint: "retrain", Scope: "repo.content", Action: ActionUpdate, RepoType: RepoModel,
		RepoName: "acme/sentiment", StatusCode: http.StatusAccepted, State: StateFailed, Attempts: 2, Duration: time.Second, Error: "cluster unreachable", Output: "epoch 1"}
	payload := json.RawMessage(`{"event":{"action":"update","scope":"repo.content"},"note":"it's"}`)
	d := DeliveryDetail{Delivery: rec, Payload: payload, Attempts: []Attempt{
		{Number: 1, State: StateFailed, Ended: at.Add(time.Minute), Error: "timeout"},
		{Number: 2, State: StateFailed, Ended: at.Add(2 * time.Minute), Duration: 1500 * time.Millisecond, Error: "cluster unreachable", Output: "epoch 1"},
	}}
	got := pageOf(t, "delivery.html", deliveryPage{DeliveryDetail: d, Payload: indented(payload),
		Resend: resendCommand("https://acme-hooks.hf.space/webhooks/retrain", payload), Durable: true, Prefix: "/hooks"})
	golden.Check(t, "delivery-page.golden", got)

	rejected := DeliveryRecord{ID: "a1b2", Time: at, Endpoint: "retrain", StatusCode: http.StatusForbidden, State: StateRejected, Error: "Invalid webhook secret."}
	golden.Check(t, "delivery-page-rejected.golden", pageOf(t, "delivery.html", deliveryPage{DeliveryDetail: detailOf(rejected)}))
}

func TestLandingPageText(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	data := pageData{
		Endpoints: []pageEndpoint{
			{Name: "retrain", URL: "http://127.0.0.1:7860/webhooks/retrain", Filter: (&Filter{Scopes: []string{"repo.content"}, Repos: []string{"acme/*"}, Refs: []string{"refs/heads/main"}}).summary(), Action: "run: ./retrain.sh --fast"},
			{Name: "sync", URL: "http://127.0.0.1:7860/webhooks/sync", Filter: (*Filter)(nil).summary()},
		},
		SecretSet: true,
		Durable:   true,
		Deliveries: []DeliveryRecord{
			{ID: "2", Time: at, Endpoint: "retrain", Scope: "repo.content", Action: ActionUpdate, RepoType: RepoModel, RepoName: "acme/sentiment", StatusCode: http.StatusAccepted, State: StateFailed, Attempts: 3, Duration: time.Second, Error: strings.Repeat("a long error without spaces ", 3), Output: "epoch 1"},
			{ID: "1", Time: at, Endpoint: "sync", StatusCode: http.StatusForbidden, State: StateRejected, Error: "Invalid webhook secret."},
		},
		Kinds:   []string{"repo.content"},
		Metrics: true,
	}
	golden.Check(t, "landing-page.golden", pageOf(t, "index.html", data))

	data.Endpoints, data.Metrics = data.Endpoints[:1], false
	page := string(pageOf(t, "index.html", data))
	for _, want := range []string{"1 endpoint is registered", "JSON: "} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "/metrics") {
		t.Error("the page links /metrics, which is not served")
	}
}

func TestOutcomeAndPlural(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code  int
		state DeliveryState
		want  string
	}{
		{202, StateFailed, "accepted 202 → failed"},
		{200, StateSucceeded, "ok 200 → succeeded"},
		{403, StateRejected, "forbidden 403 → rejected"},
		{502, StateFailed, "bad gateway 502 → failed"},
	} {
		if got := (DeliveryRecord{StatusCode: tt.code, State: tt.state}).Outcome(); got != tt.want {
			t.Errorf("outcome(%d, %s) = %q, want %q", tt.code, tt.state, got, tt.want)
		}
	}
	for n, want := range map[int]string{0: "0 endpoints are", 1: "1 endpoint is", 2: "2 endpoints are"} {
		if got := plural(n, "endpoint"); got != want {
			t.Errorf("plural(%d) = %q, want %q", n, got, want)
		}
	}
}
