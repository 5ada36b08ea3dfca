package relay

import (
	"net/url"
	"testing"
)

func TestRoute(t *testing.T) {
	const server, endpoint = "http://127.0.0.1:7860", "http://127.0.0.1:7860/webhooks/inbox"
	tests := []struct {
		base, path, query string
		want              string // "" when refused
	}{
		{base: endpoint, want: endpoint},
		{base: endpoint, query: "secret=s", want: endpoint + "?secret=s"},
		{base: endpoint + "?k=v", query: "secret=s", want: endpoint + "?k=v&secret=s"},
		{base: server, path: "/webhooks/x", want: server + "/webhooks/x"},
		{base: server + "/", path: "/webhooks/x", query: "a=1", want: server + "/webhooks/x?a=1"},
		{base: server + "/mounted/", path: "/webhooks/a%20b", want: server + "/mounted/webhooks/a%20b"},
		{base: server + "/mounted%2Fhere/", path: "/webhooks/x", want: server + "/mounted%2Fhere/webhooks/x"},
		{base: server + "/hook", want: server + "/hook"}, // any server's endpoint
		{base: server + "/hook", path: "/webhooks/x"},
		{base: server + "?k=v", path: "/webhooks/x", want: server + "/webhooks/x?k=v"},

		// Only endpoints: not the page, the API, the metrics, sign-in.
		{base: server},
		{base: server, path: "/"},
		{base: server, path: "/api/deliveries"},
		{base: server, path: "/api/deliveries/1/retry"},
		{base: server, path: "/metrics"},
		{base: server, path: "/oauth/callback"},
		{base: server, path: "/api/webhooks/x"},
		{base: server, path: "/webhooks"},
		{base: server, path: "/webhooks/"},
		{base: server, path: "/webhooks/x/"},
		{base: server, path: "/webhooks/x/y"},
		{base: server, path: "/webhooks/.."},
		{base: server, path: "/webhooks/%2e%2e"},
		{base: server, path: "/webhooks/."},
		{base: server, path: "/webhooks/x%2F..%2F..%2Fapi"},
		{base: server, path: "/webhooks/x%5C..%5Capi"},
		{base: server, path: "/webhooks/%zz"},
		{base: server, path: "//webhooks/x"},
		{base: endpoint, path: "/webhooks/x"},
		{base: endpoint, path: "/"},
		{base: endpoint, path: "/../../api/deliveries"},
	}
	for _, tt := range tests {
		base, err := url.Parse(tt.base)
		if err != nil {
			t.Fatal(err)
		}
		u, ok := route(base, message{Path: tt.path, Query: tt.query})
		got := ""
		if ok {
			got = u.String()
		}
		if got != tt.want {
			t.Errorf("route(%s, %q, %q) = %q; want %q", tt.base, tt.path, tt.query, got, tt.want)
		}
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		body                string
		scope, action, repo string
	}{
		{`{"event":{"action":"update","scope":"repo.content"},"repo":{"type":"dataset","name":"acme/reviews"}}`, "repo.content", "update", "dataset:acme/reviews"},
		{`{"event":{"scope":"repo"}}`, "", "", ""},
		{`not json`, "", "", ""},
		{``, "", "", ""},
	}
	for _, tt := range tests {
		scope, action, repo := summary([]byte(tt.body))
		if scope != tt.scope || action != tt.action || repo != tt.repo {
			t.Errorf("summary(%q) = %q, %q, %q; want %q, %q, %q", tt.body, scope, action, repo, tt.scope, tt.action, tt.repo)
		}
	}
}
