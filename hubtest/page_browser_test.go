package hubtest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/internal/browsertest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// waitForAttempt waits until the page's row of delivery d shows an attempt
// answered with code.
func waitForAttempt(tab *browsertest.Tab, d hubtest.Delivery, code int) {
	tab.WaitFor(fmt.Sprintf("delivery %s to show a %d attempt", d.ID, code), fmt.Sprintf(
		`[...document.querySelectorAll(%q)].some(b => b.innerText.trim() === %q)`,
		"#delivery-"+d.ID+" .attempt .badge", fmt.Sprint(code)))
}

func TestPageInBrowser(t *testing.T) {
	const token, secret = "hf_browser_page_token", "page-secret"
	srv := newHub(t, hubtest.WithTokens(token))
	old, moved := newReceiver(t, secret), newReceiver(t, secret)
	c := client(t, srv, token)
	hook := create(t, c, hub.CreateWebhookOptions{URL: old.URL, Secret: secret, Watched: watch(hub.WatchedModel, "acme/sentiment-model")})
	create(t, c, hub.CreateWebhookOptions{
		URL: "http://127.0.0.1:9/webhooks/discussions", Watched: watch(hub.WatchedOrg, "acme"),
		Domains: []hub.Domain{hub.DomainDiscussion},
	})

	// Sign in with the keyboard: the token field has the focus.
	tab := browsertest.Open(t, srv.URL+"/")
	tab.TabTo("#token")
	tab.Do(chromedp.KeyEvent(token))
	tab.Load(chromedp.KeyEvent(kb.Enter))
	if row := tab.Text("#webhook-" + hook.ID); !strings.Contains(row, old.URL) || !strings.Contains(row, "model:acme/sentiment-model") {
		t.Fatalf("the webhook created with the hub client is not listed as such: %q", row)
	}
	tab.CheckLayout("emulator")

	// Emit an event from the form, with the keyboard.
	tab.TabTo("#kind")
	tab.Do(chromedp.SetValue(chromedp.CSS("#kind"), "repo.content"))
	tab.TabTo("#repo")
	tab.Do(chromedp.KeyEvent("model:acme/sentiment-model"))
	tab.TabTo("#set")
	tab.TabTo("#emit-button")
	tab.Load(chromedp.KeyEvent(kb.Enter))
	if flash := tab.Text("#flash"); flash != "repo.content on model:acme/sentiment-model: sent to 1 of your webhook(s)." {
		t.Errorf("flash after emitting: %q", flash)
	}
	idle(t, srv)
	if got := old.deliveries(); len(got) != 1 || got[0].Payload.Repo.Name != "acme/sentiment-model" || got[0].Payload.Event.Scope != "repo.content" {
		t.Fatalf("the receiver got %+v", got)
	}

	// The receiver breaks: the next event fails every attempt.
	old.fail.Store(1000)
	tab.Do(
		chromedp.SetValue(chromedp.CSS("#kind"), "repo.config"),
		chromedp.SendKeys(chromedp.CSS("#repo"), "model:acme/sentiment-model"),
	)
	tab.Load(chromedp.Click(chromedp.CSS("#emit-button")))
	idle(t, srv)

	tab.Load(chromedp.Click(chromedp.CSS("#webhook-" + hook.ID + " a")))
	a := activity(t, srv, hook.ID)
	if len(a) != 2 || a[0].State != hubtest.StateFailed || a[1].State != hubtest.StateDelivered {
		t.Fatalf("activity: %+v", a)
	}
	delivered, failed := a[1], a[0]
	waitForAttempt(tab, delivered, 200)
	waitForAttempt(tab, failed, 500)
	tab.Do(chromedp.Click(chromedp.CSS("#delivery-" + delivered.ID + " summary")))
	tab.WaitFor("the payload to show", fmt.Sprintf(`(p => p && p.checkVisibility() && p.innerText.includes('"name": "acme/sentiment-model"'))(document.querySelector(%q))`, "#delivery-"+delivered.ID+" pre"))
	tab.CheckLayout("emulator-activity")

	// The receiver moves; Replay sends the failed event to its new URL.
	if _, err := c.UpdateWebhook(t.Context(), hook.ID, hub.UpdateWebhookOptions{URL: hub.Ptr(moved.URL)}); err != nil {
		t.Fatal(err)
	}
	tab.Load(chromedp.Click(chromedp.CSS("#delivery-" + failed.ID + " button")))
	if flash := tab.Text("#flash"); flash != "Replay queued." {
		t.Errorf("flash after replay: %q", flash)
	}
	if u := tab.Text("#webhook-url"); u != moved.URL {
		t.Errorf("the page shows the target %q, want %q", u, moved.URL)
	}
	idle(t, srv)
	replay := activity(t, srv, hook.ID)[0]
	if !replay.Replay || replay.EventID != failed.EventID || replay.State != hubtest.StateDelivered {
		t.Fatalf("newest activity after replay: %+v", replay)
	}
	waitForAttempt(tab, replay, 200)
	if row := tab.Text("#delivery-" + replay.ID); !strings.Contains(row, "replay") {
		t.Errorf("the replay's row does not say replay: %q", row)
	}
	if got := moved.deliveries(); len(got) != 1 || got[0].Payload.Event.Scope != "repo.config" {
		t.Errorf("the moved receiver got %+v", got)
	}

	dom, served := tab.Source()
	for _, s := range []string{token, secret} {
		if strings.Contains(dom, s) || strings.Contains(served, s) {
			t.Errorf("the page holds %q", s)
		}
	}
}
