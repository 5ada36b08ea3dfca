package hfhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/internal/browsertest"
	"github.com/hfhooks/hfhooks/queue"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// pageSecret is the receivers' secret; it must never reach the page.
const pageSecret = "s3cret-never-on-the-page"

// pageReceiver starts a receiver with the endpoints sync-dataset, which
// succeeds, and retrain, which fails while broken is true.
func pageReceiver(t *testing.T, broken *atomic.Bool, opts ...hfhooks.Option) (*hfhooks.Server, string) {
	t.Helper()
	quiet := []hfhooks.Option{hfhooks.WithSecret(pageSecret), hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard)}
	srv := hfhooks.NewServer(append(quiet, opts...)...)
	handlers := map[string]hfhooks.HandlerFunc{
		"sync-dataset": func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil },
		"retrain": func(context.Context, *hfhooks.Delivery) (any, error) {
			if broken.Load() {
				return nil, hfhooks.Error("training cluster unreachable", http.StatusBadGateway)
			}
			return map[string]string{"run": "queued"}, nil
		},
	}
	for name, h := range handlers {
		if err := srv.AddEndpoint(name, h); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

// latest returns the newest delivery of the receiver at base.
func latest(t *testing.T, base string) hfhooks.DeliveryRecord {
	t.Helper()
	resp, err := http.Get(base + "/api/deliveries?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page hfhooks.HistoryPage
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || len(page.Deliveries) != 1 {
		t.Fatalf("GET /api/deliveries: %v, %+v", err, page)
	}
	return page.Deliveries[0]
}

// waitForRow waits until the page lists delivery id with the status code
// and state, in one outcome: "accepted 202 → failed".
func waitForRow(tab *browsertest.Tab, id string, status int, state hfhooks.DeliveryState) {
	want := fmt.Sprintf("%s %d → %s", strings.ToLower(http.StatusText(status)), status, state)
	tab.WaitFor(fmt.Sprintf("delivery %s to show %q", id, want), fmt.Sprintf(
		`document.querySelector(%q)?.innerText.trim().startsWith(%q)`, "#delivery-"+id+" td.outcome", want))
}

// noSecret fails the test when the page, as shown or as served, holds the
// secret.
func noSecret(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	dom, served := tab.Source()
	if strings.Contains(dom, pageSecret) || strings.Contains(served, pageSecret) {
		t.Errorf("the page holds the secret:\n%s", dom)
	}
}

func TestPageInBrowser(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	_, base := pageReceiver(t, &broken)
	tab := browsertest.Open(t, base+"/")

	list := tab.Text("#endpoint-list")
	for _, name := range []string{"retrain", "sync-dataset"} {
		if !strings.Contains(list, "POST "+base+"/webhooks/"+name) {
			t.Errorf("the endpoint list does not show POST %s/webhooks/%s:\n%s", base, name, list)
		}
	}

	// A keyboard user: Tab to each control, type the secret, Enter.
	tab.TabTo("#kind")
	tab.Do(chromedp.SetValue(chromedp.CSS("#kind"), "discussion.create"))
	tab.TabTo("#endpoint")
	tab.Do(chromedp.SetValue(chromedp.CSS("#endpoint"), "sync-dataset"))
	tab.TabTo("#secret")
	tab.Do(chromedp.KeyEvent(pageSecret))
	noSecret(t, tab)
	tab.TabTo("#send")
	tab.Load(chromedp.KeyEvent(kb.Enter))
	if flash := tab.Text("#flash"); !strings.HasPrefix(flash, "discussion.create → /webhooks/sync-dataset: 200") {
		t.Errorf("flash after sending: %q", flash)
	}
	sent := latest(t, base)
	waitForRow(tab, sent.ID, http.StatusOK, hfhooks.StateSucceeded)
	if row := tab.Text("#delivery-" + sent.ID); !strings.Contains(row, "sync-dataset") || !strings.Contains(row, "discussion") {
		t.Errorf("row of the sent delivery: %q", row)
	}

	// A failing handler shows as failed, with its error.
	tab.Do(
		chromedp.SetValue(chromedp.CSS("#kind"), "repo.content"),
		chromedp.SetValue(chromedp.CSS("#endpoint"), "retrain"),
		chromedp.SendKeys(chromedp.CSS("#secret"), pageSecret),
	)
	tab.Load(chromedp.Click(chromedp.CSS("#send")))
	failed := latest(t, base)
	waitForRow(tab, failed.ID, http.StatusBadGateway, hfhooks.StateFailed)
	if row := tab.Text("#delivery-" + failed.ID); !strings.Contains(row, "training cluster unreachable") {
		t.Errorf("row of the failed delivery: %q", row)
	}
	noSecret(t, tab)
}

func TestPageInBrowserDurable(t *testing.T) {
	ctx := t.Context()
	q, err := queue.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "queue.db"),
		queue.WithMaxAttempts(2), queue.WithBackoff(10*time.Millisecond, 20*time.Millisecond),
		queue.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	var broken atomic.Bool
	broken.Store(true)
	srv, base := pageReceiver(t, &broken, hfhooks.WithQueue(q))
	if err := q.Start(ctx, srv); err != nil {
		t.Fatal(err)
	}

	// What a receiver has seen after a while: deliveries from the Hub, and
	// one from a webhook whose secret is wrong.
	for _, ev := range []struct{ kind, secret string }{
		{"repo.content", pageSecret},
		{"discussion.create", pageSecret},
		{"repo.update", "an-old-secret"},
		{"discussion.update", pageSecret},
	} {
		resp, err := hubtest.Send(ctx, base+"/webhooks/sync-dataset", ev.secret, hubtest.Event{Kind: ev.kind, Repo: "dataset:acme/product-reviews"})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	tab := browsertest.Open(t, base+"/")
	tab.Do(
		chromedp.SetValue(chromedp.CSS("#kind"), "repo.content"),
		chromedp.SetValue(chromedp.CSS("#endpoint"), "retrain"),
		chromedp.SendKeys(chromedp.CSS("#secret"), pageSecret),
	)
	tab.Load(chromedp.Click(chromedp.CSS("#send")))
	if flash := tab.Text("#flash"); !strings.Contains(flash, "/webhooks/retrain: 202") {
		t.Errorf("flash after sending: %q", flash)
	}
	// The page refreshes the list itself until the delivery has used its
	// attempts.
	failed := latest(t, base)
	waitForRow(tab, failed.ID, http.StatusAccepted, hfhooks.StateFailed)
	tab.CheckLayout("receiver")
	noSecret(t, tab)

	broken.Store(false)
	tab.Load(chromedp.Click(chromedp.CSS("#delivery-" + failed.ID + " button")))
	if flash := tab.Text("#flash"); flash != "delivery "+failed.ID+" queued to run again" {
		t.Errorf("flash after re-run: %q", flash)
	}
	waitForRow(tab, failed.ID, http.StatusAccepted, hfhooks.StateSucceeded)
	if rec := latest(t, base); rec.ID != failed.ID || rec.Attempts != 3 {
		t.Errorf("after the re-run: %+v, want delivery %s with 3 attempts", rec, failed.ID)
	}
}

func TestDeliveryInspectorInBrowser(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	srv, base := pageReceiver(t, &broken)
	// A handler whose error is one long word, as a URL or a stack trace
	// may be: the deliveries table must still fit the window.
	long := strings.Repeat("traceback-without-spaces/", 20)
	if err := srv.AddEndpoint("long-error", func(context.Context, *hfhooks.Delivery) (any, error) {
		return nil, errors.New(long)
	}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"long-error", "retrain"} {
		resp, err := hubtest.Send(t.Context(), base+"/webhooks/"+name, pageSecret, hubtest.Event{Kind: "repo.content", Repo: "dataset:acme/product-reviews"})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	failed := latest(t, base)

	tab := browsertest.Open(t, base+"/")
	waitForRow(tab, failed.ID, http.StatusBadGateway, hfhooks.StateFailed)
	// Neither the page nor, on a laptop, the deliveries table is wider than
	// the window (on a phone the table stacks into cards).
	for _, v := range []browsertest.Viewport{browsertest.Phone, browsertest.Laptop} {
		tab.SetViewport(v)
		if w := browsertest.Eval[int64](tab, `document.documentElement.scrollWidth`); w > v.Width {
			t.Errorf("at %s width (%d px) the page is %d px wide", v.Name, v.Width, w)
		}
		if over := browsertest.Eval[string](tab, `[...document.querySelectorAll(".table")].filter(el => el.scrollWidth > el.clientWidth).map(el => el.scrollWidth + " > " + el.clientWidth).join(", ")`); over != "" {
			t.Errorf("at %s width the deliveries table scrolls sideways: %s", v.Name, over)
		}
	}

	// The row's link opens the inspector.
	tab.Load(chromedp.Click(chromedp.CSS("#delivery-" + failed.ID + " a")))
	if h := tab.Text("h1"); h != "Delivery "+failed.ID {
		t.Errorf("inspector heading = %q", h)
	}
	if got := tab.Text("#outcome"); !strings.HasPrefix(got, "bad gateway 502 → failed") {
		t.Errorf("outcome = %q", got)
	}
	if got := tab.Text("#attempt-1"); !strings.Contains(got, "502 → failed") || !strings.Contains(got, "training cluster unreachable") {
		t.Errorf("attempt 1 = %q", got)
	}
	if got := tab.Text("#payload-json"); !strings.Contains(got, `"name": "acme/product-reviews"`) {
		t.Errorf("payload = %q", got)
	}
	resend := tab.Text("#resend-command")
	if !strings.HasPrefix(resend, "curl -X POST '"+base+"/webhooks/retrain'") || !strings.Contains(resend, `"X-Webhook-Secret: $WEBHOOK_SECRET"`) {
		t.Errorf("send-again command = %q", resend)
	}
	tab.CheckLayout("inspector")
	noSecret(t, tab)
}
