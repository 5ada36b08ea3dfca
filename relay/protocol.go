package relay

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hfhooks/hfhooks/internal/wire"
)

// Channel is a relay channel: the public URL to configure on the Hub, and
// the id and token a listener needs to receive what is sent to it.
type Channel struct {
	ID string `json:"id"`
	// Token authenticates the listener; keep it secret.
	Token string `json:"token"`
	// URL is the channel's public URL, <relay>/c/<id>. A delivery to
	// URL/some/path is forwarded to the listener's target joined with
	// /some/path.
	URL string `json:"url"`
}

// String describes the channel without its token, so that printing a
// Channel does not reveal it.
func (c Channel) String() string { return "channel " + c.ID + " (" + c.URL + ")" }

// GoString is String, so that %#v does not reveal the token either.
func (c Channel) GoString() string { return c.String() }

// ChannelURL is the public URL of channel id on the relay at relayURL.
func ChannelURL(relayURL, id string) string {
	return strings.TrimRight(relayURL, "/") + "/c/" + id
}

// Event names on the listener's stream.
const (
	eventReady    = "ready"
	eventDelivery = "delivery"
	eventReplaced = "replaced"
)

// readyEvent is the data of the "ready" event.
type readyEvent struct {
	Channel string `json:"channel"`
	// HeartbeatMillis is how often the relay writes to an idle stream; a
	// listener that hears nothing for a few of these reconnects.
	HeartbeatMillis int64 `json:"heartbeatMillis"`
	// MaxBodyBytes is the largest body the relay carries, either way.
	MaxBodyBytes int64 `json:"maxBodyBytes"`
}

// message is the data of a "delivery" event: a webhook request as the Hub
// sent it.
type message struct {
	ID string `json:"id"`
	// Path is what followed /c/<id> in the request path: empty or "/...".
	Path string `json:"path"`
	// Query is the raw query string, which may hold ?secret=.
	Query  string      `json:"query,omitempty"`
	Header http.Header `json:"header"`
	// Body is the request body, byte for byte (base64 in JSON).
	Body []byte `json:"body"`
}

// answer is what a listener posts back: the local server's answer to a
// delivery.
type answer struct {
	Status int         `json:"status"`
	Header http.Header `json:"header,omitempty"`
	Body   []byte      `json:"body"`
}

// errorAnswer is an answer with status code and a JSON error message.
func errorAnswer(code int, msg string) answer {
	b, _ := json.Marshal(errorBody{Error: msg})
	return answer{Status: code, Header: http.Header{"Content-Type": {"application/json"}}, Body: append(b, '\n')}
}

// forwardedHeaders are the request headers a delivery carries to the local
// server, and answerHeaders those of the answer carried back; nothing else
// crosses the relay (in particular no hop-by-hop header).
var (
	forwardedHeaders = []string{"Content-Type", wire.SecretHeader}
	answerHeaders    = []string{"Content-Type"}
)

// pick returns the headers of h named in names.
func pick(h http.Header, names []string) http.Header {
	out := http.Header{}
	for _, name := range names {
		if v := h.Values(name); len(v) > 0 {
			out[http.CanonicalHeaderKey(name)] = v
		}
	}
	return out
}
