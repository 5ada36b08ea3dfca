package relay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hfhooks/hfhooks/internal/redact"
)

// Defaults of a Listener.
const (
	// DefaultBackoff is the first wait before reconnecting; it doubles
	// after each failed attempt, up to DefaultMaxBackoff.
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = 30 * time.Second
	// forwardTimeout bounds one forward to the local server; the relay
	// stops waiting earlier (DefaultResponseTimeout).
	forwardTimeout = 30 * time.Second
	// createTimeout bounds asking the relay for a channel, so that a relay
	// that hangs fails a start-up or a reconnection instead of blocking it.
	createTimeout = 30 * time.Second
	// missedHeartbeats is how many heartbeats may go unheard before the
	// listener takes its connection for dead.
	missedHeartbeats = 3
)

// ErrReplaced is returned by [Listener.Run] when another listener connected
// to the same channel and the relay handed the channel over to it.
var ErrReplaced = errors.New("relay: another listener took over the channel")

// CreateChannel asks the relay at relayURL for a new channel. relayToken is
// the relay's token when it requires one (see [WithCreateToken]). The
// returned channel's URL is built from relayURL, the address the caller
// reaches the relay by. A nil client means http.DefaultClient. It waits at
// most 30 s for the relay's answer.
func CreateChannel(ctx context.Context, client *http.Client, relayURL, relayToken string) (Channel, error) {
	ch, err := createChannel(ctx, client, relayURL, relayToken)
	return ch, redact.Error(err)
}

// createChannel is CreateChannel, with errors that may show secrets.
func createChannel(ctx context.Context, client *http.Client, relayURL, relayToken string) (Channel, error) {
	if client == nil {
		client = http.DefaultClient
	}
	base := strings.TrimRight(relayURL, "/")
	ctx, cancel := context.WithTimeout(ctx, createTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/channels", nil)
	if err != nil {
		return Channel{}, fmt.Errorf("relay: %w", err)
	}
	if relayToken != "" {
		req.Header.Set("Authorization", "Bearer "+relayToken)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Channel{}, fmt.Errorf("relay: creating a channel: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return Channel{}, fmt.Errorf("relay: creating a channel: %w", statusError(resp))
	}
	var ch Channel
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ch); err != nil {
		return Channel{}, fmt.Errorf("relay: creating a channel: decoding the answer: %w", err)
	}
	if ch.ID == "" || ch.Token == "" {
		return Channel{}, errors.New("relay: creating a channel: the answer has no id or token")
	}
	ch.URL = ChannelURL(base, ch.ID)
	return ch, nil
}

// HTTPError is an error answer from the relay.
type HTTPError struct {
	StatusCode int
	// Message is the relay's {"error": ...}, or the start of the body.
	Message string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// statusError reads an error answer.
func statusError(resp *http.Response) *HTTPError {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	var eb errorBody
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
		msg = eb.Error
	}
	return &HTTPError{StatusCode: resp.StatusCode, Message: msg}
}

// Forwarded describes one delivery a Listener forwarded.
type Forwarded struct {
	// Time is when the delivery reached the listener.
	Time time.Time
	// DeliveryID is the relay's id of the delivery.
	DeliveryID string
	// Target is the local URL it was forwarded to, with its password and
	// query values redacted; empty when the listener refused the delivery.
	Target string
	// Scope, Action and Repo ("TYPE:NAME") come from the payload; they are
	// empty when it is not a webhook payload (see summary).
	Scope, Action, Repo string
	// Status is the local server's status, or the one the listener gave
	// the relay when it refused the delivery (404) or could not reach the
	// local server (502).
	Status int
	// Duration is how long the local server took.
	Duration time.Duration
	// Err says why the delivery was refused, why the local server could
	// not be reached, or why its answer did not reach the relay. Its
	// message shows no password or query value.
	Err error
}

// Listener connects to a channel on a relay and forwards each delivery to a
// local server. Set the fields, then call Run.
//
// It survives the relay's restarts and outages: when the relay cannot be
// reached or answers 5xx, it reconnects with backoff; when the relay no
// longer knows the channel (it expired, or the relay restarted without a
// [Store]), it creates a new one and tells OnChannel. It logs each change
// of the connection's state once, not each attempt.
//
// A channel is a door for the Hub's deliveries only: the listener forwards
// a delivery to the channel's URL when ForwardTo is an endpoint's URL
// (…/webhooks/<name>), and one to the channel's URL plus /webhooks/<name>
// when ForwardTo is a server's base URL; it answers anything else 404
// without contacting the local server. It never follows a redirect: a 3xx
// from the local server goes back to the relay as it is (without its
// Location), and the Hub counts it as a failure.
//
// Its errors and log lines show no password or query value of ForwardTo or
// of a delivery.
type Listener struct {
	// RelayURL is the relay's base URL, e.g. https://you-relay.hf.space.
	RelayURL string
	// Channel is the channel to listen on (its ID and Token). Without an
	// ID, Run creates a channel, as it does when the relay forgot this one.
	Channel Channel
	// RelayToken is the relay's token, to create a channel when the relay
	// requires one (see [WithCreateToken]).
	RelayToken string
	// ForwardTo is the local URL deliveries go to: an endpoint's URL,
	// such as http://127.0.0.1:7860/webhooks/inbox, which receives the
	// deliveries to the channel's URL, or a server's base URL, such as
	// http://127.0.0.1:7860, under which a delivery to the channel's URL
	// plus /webhooks/<name> goes to /webhooks/<name>. The delivery's query
	// string is added to ForwardTo's.
	ForwardTo string

	// HTTPClient talks to the relay and to the local server; it must not
	// have a Timeout, which would cut the stream. Nil means a plain client.
	HTTPClient *http.Client
	// Logger logs the connection's state (slog.Default() when nil).
	Logger *slog.Logger
	// OnForward, when set, is called after each delivery, from its own
	// goroutine.
	OnForward func(Forwarded)
	// OnConnect, when set, is called each time the stream is established.
	OnConnect func()
	// OnChannel, when set, is called with each channel Run creates, before
	// it listens on it: its URL is the one to give the Hub from then on.
	OnChannel func(Channel)
	// Backoff and MaxBackoff bound the waits between reconnection attempts
	// (DefaultBackoff and DefaultMaxBackoff when zero).
	Backoff, MaxBackoff time.Duration
	// MaxReconnects is how many connection attempts in a row may fail
	// before Run gives up; 0 means never give up.
	MaxReconnects int
}

// permanentError marks an error that reconnecting cannot cure.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// errChannelGone is the relay's 404 for the channel: Run creates another.
var errChannelGone = errors.New("the relay no longer knows the channel (it expired, or the relay restarted without --state)")

// Run listens until ctx ends (and returns nil), the relay refuses the
// channel's token or hands the channel to another listener (ErrReplaced),
// or MaxReconnects attempts in a row fail. It waits for the deliveries
// being forwarded before it returns.
func (l *Listener) Run(ctx context.Context) error {
	base, err := url.Parse(l.ForwardTo)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("relay: invalid forward URL %q: must be an http or https URL", redact.URL(l.ForwardTo))
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ch := l.Channel
	failures := 0
	var downSince time.Time // when the connection was lost; zero while up
	worked := false         // whether a stream on ch was established
	for {
		var connected bool
		var err error
		if ch.ID == "" {
			ch, err = l.newChannel(ctx)
		}
		if err == nil {
			connected, err = l.stream(ctx, ch, base, &wg, downSince)
		}
		err = redact.Error(err)
		if ctx.Err() != nil {
			return nil
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return err
		}
		if connected {
			failures, downSince, worked = 0, time.Time{}, true
		}
		failures++
		if l.MaxReconnects > 0 && failures > l.MaxReconnects {
			return fmt.Errorf("relay: giving up after %d failed connection attempts: %w", failures, err)
		}
		wait := l.backoff(failures)
		switch {
		case errors.Is(err, errChannelGone):
			l.logger().Warn("the relay no longer knows the channel (it expired, or the relay restarted without --state); creating a new one", "channel", ch.ID)
			ch = Channel{}
			if worked {
				// The relay is up, and forgot a channel that worked:
				// replace it at once.
				failures, worked = 0, false
				continue
			}
		case downSince.IsZero():
			downSince = time.Now()
			l.logger().Warn("relay unreachable; reconnecting with backoff", "err", err)
		default:
			l.logger().Debug("relay still unreachable", "err", err, "attempt", failures, "next_in", wait.Round(time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// newChannel creates a channel on the relay and hands it to OnChannel. A
// refusal (4xx) is permanent; the relay being down is not.
func (l *Listener) newChannel(ctx context.Context) (Channel, error) {
	ch, err := createChannel(ctx, l.HTTPClient, l.RelayURL, l.RelayToken)
	var herr *HTTPError
	if errors.As(err, &herr) && herr.StatusCode < 500 && herr.StatusCode != http.StatusTooManyRequests {
		return Channel{}, &permanentError{err}
	}
	if err != nil {
		return Channel{}, err
	}
	l.logger().Info("created a new channel", "channel", ch.ID, "url", ch.URL)
	if l.OnChannel != nil {
		l.OnChannel(ch)
	}
	return ch, nil
}

// backoff is the wait before the n-th attempt in a row (n ≥ 1): doubling
// from Backoff, capped at MaxBackoff, with up to a quarter of jitter off.
func (l *Listener) backoff(n int) time.Duration {
	base, ceiling := orDefault(l.Backoff, DefaultBackoff), orDefault(l.MaxBackoff, DefaultMaxBackoff)
	d := base
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (l *Listener) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}

func (l *Listener) client() *http.Client {
	if l.HTTPClient != nil {
		return l.HTTPClient
	}
	return http.DefaultClient
}

// channelPath is the URL of channel ch's listener API plus suffix.
func (l *Listener) channelPath(ch Channel, suffix string) string {
	return strings.TrimRight(l.RelayURL, "/") + "/channels/" + url.PathEscape(ch.ID) + suffix
}

// stream makes one connection to channel ch and reads its events until it
// ends; it reports whether the connection was established. downSince is
// when the previous connection was lost, zero if it was not.
func (l *Listener) stream(ctx context.Context, ch Channel, base *url.URL, wg *sync.WaitGroup, downSince time.Time) (connected bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, l.channelPath(ch, "/events"), nil)
	if err != nil {
		return false, &permanentError{fmt.Errorf("relay: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+ch.Token)
	req.Header.Set("Accept", "text/event-stream")
	// Until the relay says how often it beats, allow three default beats.
	idle := missedHeartbeats * DefaultHeartbeat
	watchdog := time.AfterFunc(idle, cancel)
	defer watchdog.Stop()
	resp, err := l.client().Do(req)
	if err != nil {
		return false, fmt.Errorf("relay: connecting: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		herr := statusError(resp)
		switch {
		case herr.StatusCode == http.StatusNotFound:
			return false, fmt.Errorf("relay: listening on channel %s: %w: %w", ch.ID, errChannelGone, herr)
		case herr.StatusCode < 500 && herr.StatusCode != http.StatusTooManyRequests:
			return false, &permanentError{fmt.Errorf("relay: listening on channel %s: %w", ch.ID, herr)}
		}
		return false, fmt.Errorf("relay: connecting: %w", herr)
	}

	br := bufio.NewReader(resp.Body)
	limit := int64(DefaultMaxBodyBytes)
	var event string
	for {
		watchdog.Reset(idle)
		line, err := readLine(br, limit/3*4+64<<10)
		if err != nil {
			if sctx.Err() != nil && ctx.Err() == nil {
				err = fmt.Errorf("no heartbeat from the relay for %s", idle)
			}
			return connected, fmt.Errorf("relay: reading the stream: %w", err)
		}
		name, value, _ := strings.Cut(string(line), ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "event":
			event = value
			continue
		case "data":
		default: // a comment (heartbeat), a blank line, or a field we do not use
			continue
		}
		switch event {
		case eventReady:
			var ready readyEvent
			if err := json.Unmarshal([]byte(value), &ready); err != nil {
				return connected, fmt.Errorf("relay: bad ready event: %w", err)
			}
			if ready.HeartbeatMillis > 0 {
				idle = missedHeartbeats * time.Duration(ready.HeartbeatMillis) * time.Millisecond
			}
			if ready.MaxBodyBytes > 0 {
				limit = ready.MaxBodyBytes
			}
			connected = true
			if downSince.IsZero() {
				l.logger().Info("connected to the relay", "channel", ch.ID)
			} else {
				l.logger().Info("reconnected to the relay", "channel", ch.ID, "after", time.Since(downSince).Round(time.Millisecond))
			}
			if l.OnConnect != nil {
				l.OnConnect()
			}
		case eventDelivery:
			var m message
			if err := json.Unmarshal([]byte(value), &m); err != nil {
				return connected, fmt.Errorf("relay: bad delivery event: %w", err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				l.forward(ctx, ch, base, m, limit)
			}()
		case eventReplaced:
			return connected, &permanentError{ErrReplaced}
		}
		event = ""
	}
}

// readLine reads one line, without its end, of at most limit bytes.
func readLine(br *bufio.Reader, limit int64) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if int64(len(line)) > limit {
			return nil, fmt.Errorf("a line of the stream is longer than %d bytes", limit)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
}

// forward sends m to the local server under base and the answer back to
// the relay, or refuses m (see route).
func (l *Listener) forward(ctx context.Context, ch Channel, base *url.URL, m message, limit int64) {
	f := Forwarded{Time: time.Now(), DeliveryID: m.ID}
	f.Scope, f.Action, f.Repo = summary(m.Body)
	var a answer
	var ferr error
	if target, ok := route(base, m); !ok {
		ferr = refusal(base, m)
		a = errorAnswer(http.StatusNotFound, "not found: "+ferr.Error())
	} else {
		f.Target = redact.URL(target.String())
		if a, ferr = l.post(ctx, l.localClient(), target.String(), m, limit); ferr != nil {
			ferr = redact.Error(ferr)
			a = errorAnswer(http.StatusBadGateway, "hfhooks listen could not reach the local server: "+ferr.Error())
		}
	}
	f.Duration = time.Since(f.Time)
	f.Status = a.Status
	f.Err = redact.Error(errors.Join(ferr, l.answer(ctx, ch, m.ID, a)))
	if l.OnForward != nil {
		l.OnForward(f)
	}
}

// refusal says why the listener refused m.
func refusal(base *url.URL, m message) error {
	where, passed := "the channel's URL", "the channel's URL plus /webhooks/NAME"
	if m.Path != "" {
		where += " plus " + m.Path
	}
	if isEndpointURL(base) {
		passed = "the channel's URL"
	}
	return fmt.Errorf("refused a delivery to %s: this listener passes only webhook deliveries, to %s", where, passed)
}

// localClient is the client for the local server: HTTPClient, except that
// it never follows a redirect.
func (l *Listener) localClient() *http.Client {
	c := *l.client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// post forwards m to target with client and returns the local answer.
func (l *Listener) post(ctx context.Context, client *http.Client, target string, m message, limit int64) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, forwardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(m.Body))
	if err != nil {
		return answer{}, err
	}
	req.Header = pick(m.Header, forwardedHeaders)
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return answer{}, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(body)) > limit {
		body = body[:limit] // the status is what the Hub acts on
	}
	return answer{Status: resp.StatusCode, Header: pick(resp.Header, answerHeaders), Body: body}, nil
}

// answer posts the local answer to delivery id of channel ch back to the
// relay.
func (l *Listener) answer(ctx context.Context, ch Channel, id string, a answer) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	// The answer must go out even when ctx ends while the local server
	// works: the relay is waiting for it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), forwardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.channelPath(ch, "/responses/"+url.PathEscape(id)), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+ch.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client().Do(req)
	if err != nil {
		return fmt.Errorf("sending the answer to the relay: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("sending the answer to the relay: %w", statusError(resp))
	}
	return nil
}

// summary returns the event scope and action and the repository
// ("TYPE:NAME") of a webhook payload, for the listener's log; all three are
// empty when body is not JSON naming a scope and a repository. The relay
// passes bodies on as they are: it leaves validating them to the receiver,
// and so does not import it.
func summary(body []byte) (scope, action, repo string) {
	var p struct {
		Event struct{ Scope, Action string }
		Repo  struct{ Type, Name string }
	}
	if json.Unmarshal(body, &p) != nil || p.Event.Scope == "" || p.Repo.Name == "" {
		return "", "", ""
	}
	return p.Event.Scope, p.Event.Action, p.Repo.Type + ":" + p.Repo.Name
}
