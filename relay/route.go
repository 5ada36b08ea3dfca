package relay

import (
	"net/url"
	"strings"
)

// A channel is a door for the Hub's deliveries only: it passes a POST to
// the channel's URL, or to the channel's URL plus /webhooks/<name>, and
// nothing else, so that whoever knows the URL reaches no other route of the
// local server (its page, /api/*, /metrics, a sign-in or a form that
// redirects).

// isEndpointPath reports whether p, an escaped path, is /webhooks/<name>
// where name is one segment: not empty, not "." or "..", and without a
// slash or backslash, even an escaped one.
func isEndpointPath(p string) bool {
	name, ok := strings.CutPrefix(p, "/webhooks/")
	if !ok || strings.Contains(name, "/") {
		return false
	}
	name, err := url.PathUnescape(name)
	return err == nil && name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}

// IsEndpointURL reports whether forwardTo is the URL of one endpoint: its
// path does not end in a slash, as in
// http://127.0.0.1:7860/webhooks/say_hello or http://127.0.0.1:8000/hook.
// A [Listener] forwards to it the deliveries to the channel's URL. A
// server's base URL, with no path or one ending in a slash
// (http://127.0.0.1:7860, http://127.0.0.1:7860/mounted/), gets the
// deliveries to the channel's URL plus /webhooks/<name>, under it.
func IsEndpointURL(forwardTo string) bool {
	u, err := url.Parse(forwardTo)
	return err == nil && isEndpointURL(u)
}

// isEndpointURL is IsEndpointURL of a parsed URL.
func isEndpointURL(u *url.URL) bool {
	p := u.EscapedPath()
	return p != "" && !strings.HasSuffix(p, "/")
}

// route returns the local URL of delivery m for a listener that forwards to
// base, or false when the channel does not pass m. A delivery to the
// channel's URL goes to base when base is an endpoint's URL; one to
// /webhooks/<name> under it goes to base joined with /webhooks/<name> when
// base is a server's. The delivery's query follows base's.
func route(base *url.URL, m message) (*url.URL, bool) {
	u := *base
	switch {
	case m.Path == "" && isEndpointURL(base):
	case isEndpointPath(m.Path) && !isEndpointURL(base):
		u.RawPath = strings.TrimRight(base.EscapedPath(), "/") + m.Path
		u.Path, _ = url.PathUnescape(u.RawPath) // both parts are valid
	default:
		return nil, false
	}
	if m.Query != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += m.Query
	}
	return &u, true
}
