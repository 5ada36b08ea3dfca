package hfhooks_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/browsertest"
)

// TestSignInInBrowser signs in to a private receiver with Hugging Face, in
// Chromium, against the emulator's provider: a member of an allowed org gets
// the page and signs out; another user gets 403 with their name.
func TestSignInInBrowser(t *testing.T) {
	hub, oauth := signInHub(t)
	t.Setenv("SPACE_ID", "acme/hooks")
	base := accessReceiver(t, hfhooks.WithOAuth(oauth), hfhooks.WithOperators("org:acme"))

	tab := browsertest.Open(t, base+"/signin")
	tab.AllowOrigin(hub.URL)
	tab.ExpectProblem("status of 401 (Unauthorized) (" + base + "/)")
	tab.ExpectProblem("status of 403 (Forbidden) (" + base + "/)")
	signInAs := func(token string) int64 {
		t.Helper()
		tab.Load(chromedp.Click(chromedp.CSS("#signin-hf")))
		if got := tab.Text("#client"); got != oauth.ClientID {
			t.Errorf("the emulator's authorize page names the client %q, want %q", got, oauth.ClientID)
		}
		tab.Do(chromedp.SendKeys(chromedp.CSS("#token"), token))
		resp := tab.LoadAny(chromedp.Click(chromedp.CSS("#approve")))
		return resp.Status
	}

	// carol, of the org acme, gets in and sees the page.
	if status := signInAs(carolToken); status != http.StatusOK {
		t.Fatalf("carol's sign-in ended with %d, want 200", status)
	}
	if got := tab.Text("#signed-in-as"); got != "carol" {
		t.Errorf("signed in as %q, want carol", got)
	}
	if list := tab.Text("#endpoint-list"); !strings.Contains(list, "/webhooks/x") {
		t.Errorf("the page does not list the endpoint: %q", list)
	}
	// Signing out ends the session: the page is private again.
	tab.Load(chromedp.Click(chromedp.CSS("#signout")))
	resp := tab.LoadAny(chromedp.Navigate(base + "/"))
	if resp.Status != http.StatusUnauthorized {
		t.Errorf("the page after signing out: %d, want 401", resp.Status)
	}
	if strings.Contains(tab.Text("body"), "/webhooks/x") {
		t.Error("the sign-in page shows the receiver's endpoints")
	}

	// bob is nobody's operator: 403, naming him and who is allowed.
	tab.Goto(base + "/signin")
	if status := signInAs(bobToken); status != http.StatusForbidden {
		t.Errorf("bob's sign-in ended with %d, want 403", status)
	}
	if who, ops := tab.Text("#user"), tab.Text("#operators"); who != "bob" || ops != "org:acme" {
		t.Errorf("the 403 page says user %q, operators %q; want bob, org:acme", who, ops)
	}
}
