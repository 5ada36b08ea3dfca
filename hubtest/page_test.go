package hubtest_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
)

// browser is an HTTP client with cookies that follows redirects, as a
// browser submitting forms does.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar}}
}

// do GETs path, or POSTs form to it when form is not nil, and returns the
// final status and page.
func (b *browser) do(path string, form url.Values) (int, string) {
	b.t.Helper()
	var resp *http.Response
	var err error
	if form == nil {
		resp, err = b.c.Get(b.base + path)
	} else {
		resp, err = b.c.PostForm(b.base+path, form)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestPage(t *testing.T) {
	srv := newHub(t, hubtest.WithTokens("hf_alice_token", "hf_bob_token"))
	rcv := newReceiver(t, "page-secret")
	mine := create(t, client(t, srv, "hf_alice_token"), hub.CreateWebhookOptions{URL: rcv.URL, Secret: "page-secret", Watched: watch(hub.WatchedOrg, "acme")})
	theirs := create(t, client(t, srv, "hf_bob_token"), hub.CreateWebhookOptions{URL: "https://example.com/bob", Watched: watch(hub.WatchedOrg, "bobs")})
	b := newBrowser(t, srv.URL)
	noLeak := func(page string) {
		t.Helper()
		for _, s := range []string{"hf_alice_token", "hf_bob_token", "page-secret", theirs.ID} {
			if strings.Contains(page, s) {
				t.Errorf("page shows %q:\n%s", s, page)
			}
		}
	}

	code, page := b.do("/", nil)
	if code != 200 || !strings.Contains(page, `id="sign-in"`) || strings.Contains(page, mine.ID) {
		t.Fatalf("signed-out page: %d\n%s", code, page)
	}
	if _, page := b.do("/webhook/"+mine.ID, nil); !strings.Contains(page, "Sign in with a token first.") || strings.Contains(page, mine.ID) {
		t.Errorf("webhook page without sign-in:\n%s", page)
	}
	if _, page := b.do("/session", url.Values{"token": {"hf_wrong"}}); !strings.Contains(page, "not one this Hub accepts") {
		t.Errorf("wrong token:\n%s", page)
	}

	_, page = b.do("/session", url.Values{"token": {"hf_alice_token"}})
	if !strings.Contains(page, `href="/webhook/`+mine.ID+`"`) || !strings.Contains(page, "org:acme") || !strings.Contains(page, `id="emit-form"`) {
		t.Fatalf("signed-in page:\n%s", page)
	}
	noLeak(page)

	_, page = b.do("/emit", url.Values{"kind": {"repo.config"}, "repo": {"model:acme/m"}, "set": {"updatedConfig={}\r\nrepo.private=false\n"}})
	if !strings.Contains(page, "repo.config on model:acme/m: sent to 1 of your webhook(s).") {
		t.Errorf("after emit:\n%s", page)
	}
	idle(t, srv)
	if got := rcv.deliveries(); len(got) != 1 || got[0].Payload.Repo.Private || !strings.Contains(string(got[0].Body), `"updatedConfig":{}`) {
		t.Fatalf("receiver got %+v", got)
	}
	if _, page := b.do("/emit", url.Values{"kind": {"repo.config"}, "set": {"no equals sign"}}); !strings.Contains(page, "want path=value") {
		t.Errorf("bad set:\n%s", page)
	}

	code, page = b.do("/webhook/"+mine.ID, nil)
	a := activity(t, srv, mine.ID)
	if code != 200 || !strings.Contains(page, `id="delivery-`+a[0].ID+`"`) || !strings.Contains(page, ">200</span>") ||
		!strings.Contains(page, "&#34;scope&#34;: &#34;repo.config&#34;") || !strings.Contains(page, `name="event" value="`+a[0].EventID+`"`) {
		t.Fatalf("activity page: %d\n%s", code, page)
	}
	noLeak(page)

	_, page = b.do("/webhook/"+mine.ID+"/replay", url.Values{"event": {a[0].EventID}})
	if !strings.Contains(page, "Replay queued.") {
		t.Errorf("after replay:\n%s", page)
	}
	idle(t, srv)
	if a := activity(t, srv, mine.ID); len(a) != 2 || !a[0].Replay || a[0].State != hubtest.StateDelivered || len(rcv.deliveries()) != 2 {
		t.Errorf("activity after replay: %+v", a)
	}
	if code, _ := b.do("/webhook/"+theirs.ID, nil); code != http.StatusNotFound {
		t.Errorf("another token's webhook page: %d", code)
	}
	if code, _ := b.do("/webhook/"+theirs.ID+"/replay", url.Values{"event": {a[0].EventID}}); code != http.StatusNotFound {
		t.Errorf("replay on another token's webhook: %d", code)
	}

	if _, page := b.do("/session/end", url.Values{}); !strings.Contains(page, `id="sign-in"`) || strings.Contains(page, mine.ID) {
		t.Errorf("after sign-out:\n%s", page)
	}
}
