package hubtest_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/internal/browsertest"
	"golang.org/x/oauth2"
)

// TestSignInPageInBrowser approves and denies a sign-in with the keyboard.
// The app's callback is on the emulator's origin, as the tab allows no
// other.
func TestSignInPageInBrowser(t *testing.T) {
	h := hubtest.New(
		hubtest.WithUser(alice, hubtest.User{Name: "alice", Orgs: []string{"acme"}}),
		hubtest.WithOAuthClient(clientID, clientSecret),
	)
	t.Cleanup(h.Close)
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("GET /app/callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		fmt.Fprintf(w, `<!doctype html><title>app</title><p id="result">code=%t state=%s error=%s</p>`,
			q.Get("code") != "", html.EscapeString(q.Get("state")), html.EscapeString(q.Get("error")))
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	q := authParams(oauth2.GenerateVerifier())
	q.Set("redirect_uri", ts.URL+"/app/callback")
	authURL := ts.URL + "/oauth/authorize?" + q.Encode()

	tab := browsertest.Open(t, authURL)
	if got := tab.Text("h1"); got != clientID+" wants to sign you in" {
		t.Errorf("heading: %q", got)
	}
	tab.CheckLayout("sign-in")
	tab.TabTo("#token")
	tab.Do(chromedp.KeyEvent(alice))
	tab.TabTo("#approve")
	tab.Load(chromedp.KeyEvent(kb.Enter))
	if got := tab.Text("#result"); got != "code=true state=the-state error=" {
		t.Errorf("after Authorize, the app got %q", got)
	}

	tab.Goto(authURL)
	tab.TabTo("#deny")
	tab.Load(chromedp.KeyEvent(kb.Enter))
	if got := tab.Text("#result"); got != "code=false state=the-state error=access_denied" {
		t.Errorf("after Deny, the app got %q", got)
	}
}
