package relay

import (
	"net/url"
	"strings"
)

// MarkerParam is the query parameter that marks the URL of a temporary
// webhook, one that "hfhooks listen --watch" creates and deletes on exit.
// A temporary webhook left behind by a crash is one whose URL points at a
// channel of the relay (<relay>/c/<id>) and carries ?hfhooks-listen=1; see
// [IsTemporaryWebhookURL].
const MarkerParam = "hfhooks-listen"

// TemporaryWebhookURL is the URL to give a temporary webhook that delivers
// to the channel at channelURL: the channel URL with the marker.
func TemporaryWebhookURL(channelURL string) string {
	return channelURL + "?" + MarkerParam + "=1"
}

// IsTemporaryWebhookURL reports whether webhookURL is that of a temporary
// webhook delivering to a channel of the relay at relayURL.
func IsTemporaryWebhookURL(webhookURL, relayURL string) bool {
	w, err := url.Parse(webhookURL)
	if err != nil {
		return false
	}
	r, err := url.Parse(relayURL)
	if err != nil {
		return false
	}
	return strings.EqualFold(w.Host, r.Host) &&
		strings.HasPrefix(w.Path, strings.TrimRight(r.Path, "/")+"/c/") &&
		w.Query().Has(MarkerParam)
}
