package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/hfhooks/hfhooks/relay"
	"github.com/spf13/cobra"
)

// cleanupTimeout bounds deleting the temporary webhook once listen stops.
const cleanupTimeout = 10 * time.Second

// listenOptions are the inputs of "hfhooks listen".
type listenOptions struct {
	IO        *ioStreams
	HubClient func() (*hub.Client, error)

	Relay        string
	RelayToken   string
	ForwardTo    string
	ChannelID    string
	ChannelToken string
	Watch        []string
	Domains      []string
	Secret       string
	Cleanup      bool

	MaxReconnects int
	// Backoff is the first wait before reconnecting (the listener's
	// default when zero); tests shorten it.
	Backoff time.Duration
}

// newListenCmd builds "hfhooks listen".
func newListenCmd(s *ioStreams) *cobra.Command {
	var token, endpoint string
	opts := &listenOptions{
		IO: s,
		HubClient: func() (*hub.Client, error) {
			return hub.NewClient(hub.WithToken(token), hub.WithEndpoint(endpoint))
		},
	}
	cmd := &cobra.Command{
		Use:   "listen --relay URL --forward-to URL",
		Short: "Receive Hub deliveries on this machine through a relay",
		Long: `Connect to a relay ("hfhooks relay", deployed where the Hub can reach it) and
forward every delivery sent to the channel's public URL to a local server,
byte for byte, with its X-Webhook-Secret. The Hub sees the status the local
server answered.

The channel is a door for the Hub's deliveries only: with --forward-to an
endpoint's URL (.../webhooks/NAME), only POSTs to the channel's URL pass;
with --forward-to a server's base URL (http://127.0.0.1:7860), only POSTs to
the channel's URL plus /webhooks/NAME, to the same path. Anything else is answered 404 without reaching the local
server, and a redirect the local server answers is passed back, not
followed. Errors and logs show URLs with their query values as xxxxx. One
line is printed per delivery.

listen outlives the relay's restarts and outages: when the relay is down or
answers 5xx, it reconnects with backoff (1 s doubling to 30 s, jittered),
and logs one line when the connection is lost and one when it is back. If
the relay no longer knows the channel (it expired, or the relay restarted
without --state), listen creates a new one and prints its URL (and, with
--watch, points the temporary webhook at it). With --max-reconnects N it
gives up after N failed attempts in a row.

A new channel is created unless --channel and --channel-token name one that
listen printed before; its URL then stays the same.

With --watch, listen creates a temporary webhook on the Hub (with the token
and endpoint of "hfhooks webhooks") that delivers to the channel, and deletes
it when it stops: on Ctrl-C, and when it gives up. Its URL is the channel's
with ?hfhooks-listen=1; if a crash left such a webhook pointing at the same
relay, listen finds it at start and asks whether to delete it, or stops
when stdin is not a terminal (--cleanup deletes without asking).

If the relay requires a token to create channels, set HFHOOKS_RELAY_TOKEN or
--relay-token.`,
		Example: `  hfhooks listen --relay https://you-relay.hf.space --forward-to http://127.0.0.1:7860/webhooks/inbox
  hfhooks listen --relay https://you-relay.hf.space --forward-to http://127.0.0.1:7860/webhooks/inbox \
    --watch dataset:you/data --secret my-secret`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runListen(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Relay, "relay", "", "`URL` of the relay (required)")
	f.StringVar(&opts.RelayToken, "relay-token", "", "token the relay requires to create channels (default $"+relayTokenEnv+")")
	f.StringVar(&opts.ForwardTo, "forward-to", "", "local `URL` that receives the deliveries (required)")
	f.StringVar(&opts.ChannelID, "channel", "", "`ID` of an existing channel to reuse (with --channel-token)")
	f.StringVar(&opts.ChannelToken, "channel-token", "", "`TOKEN` of the channel given with --channel")
	f.StringArrayVar(&opts.Watch, "watch", nil, "create a temporary webhook watching type:name (repeatable)")
	f.StringArrayVar(&opts.Domains, "domain", nil, "event domain of the temporary webhook: repo or discussion; repeatable (default: all)")
	f.StringVar(&opts.Secret, "secret", "", "secret of the temporary webhook, sent in X-Webhook-Secret")
	f.BoolVar(&opts.Cleanup, "cleanup", false, "delete webhooks left by an earlier listen on this relay without asking")
	f.IntVar(&opts.MaxReconnects, "max-reconnects", 0, "give up after this many failed connection attempts in a row (0: never)")
	f.StringVar(&token, "token", "", "Hugging Face token, for --watch and --cleanup (default: HF_TOKEN or the cached login token)")
	f.StringVar(&endpoint, "endpoint", "", "Hub URL (default: HF_ENDPOINT or https://huggingface.co)")
	return cmd
}

// check rejects inconsistent flags as usage errors.
func (o *listenOptions) check() error {
	if o.Relay != "" {
		if err := checkURLFlag("--relay", o.Relay, "https://you-relay.hf.space"); err != nil {
			return err
		}
	}
	if o.ForwardTo != "" {
		if err := checkURLFlag("--forward-to", o.ForwardTo, "http://127.0.0.1:7860/webhooks/inbox"); err != nil {
			return err
		}
	}
	switch {
	case o.Relay == "":
		return usageErrorf("--relay URL is required")
	case o.ForwardTo == "":
		return usageErrorf("--forward-to URL is required")
	case (o.ChannelID == "") != (o.ChannelToken == ""):
		return usageErrorf("give --channel and --channel-token together")
	case len(o.Watch) == 0 && (len(o.Domains) > 0 || o.Secret != ""):
		return usageErrorf("--domain and --secret are for the temporary webhook: add --watch TYPE:NAME")
	case len(o.Watch) > 0 && !relay.IsEndpointURL(o.ForwardTo):
		return usageErrorf("--watch needs --forward-to to be an endpoint's URL, with a path such as /webhooks/NAME: the temporary webhook delivers to the channel's URL, which passes to that URL only")
	}
	return nil
}

func runListen(ctx context.Context, opts *listenOptions) error {
	if err := opts.check(); err != nil {
		return err
	}
	watched, err := parseWatched(opts.Watch)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	relayToken := envDefault(opts.RelayToken, relayTokenEnv)
	ch := relay.Channel{ID: opts.ChannelID, Token: opts.ChannelToken, URL: relay.ChannelURL(opts.Relay, opts.ChannelID)}
	if ch.ID == "" {
		if ch, err = relay.CreateChannel(ctx, nil, opts.Relay, relayToken); err != nil {
			return err
		}
	}
	var temp *temporaryWebhook
	if len(watched) > 0 || opts.Cleanup {
		client, err := opts.HubClient()
		if err != nil {
			return err
		}
		if err := cleanupLeftovers(ctx, opts, client); err != nil {
			return err
		}
		if len(watched) > 0 {
			if temp, err = createTemporary(ctx, opts.IO, client, ch, "", watched, opts.Domains, opts.Secret); err != nil {
				return err
			}
			defer temp.remove(ctx, opts.IO)
		}
	}
	printChannel(opts, ch, temp != nil)
	fmt.Fprintln(opts.IO.Out, "Ready. Press Ctrl-C to stop.")

	var mu sync.Mutex // serialises what the listener's goroutines print
	l := &relay.Listener{
		RelayURL:      opts.Relay,
		RelayToken:    relayToken,
		Channel:       ch,
		ForwardTo:     opts.ForwardTo,
		Logger:        slog.New(slog.NewTextHandler(opts.IO.ErrOut, nil)),
		MaxReconnects: opts.MaxReconnects,
		Backoff:       opts.Backoff,
		OnForward: func(f relay.Forwarded) {
			mu.Lock()
			defer mu.Unlock()
			printForwarded(opts.IO.Out, f)
		},
		OnChannel: func(ch relay.Channel) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(opts.IO.Out, "The relay no longer knows the channel (it expired, or the relay restarted without --state): listening on a new one.")
			printChannel(opts, ch, temp != nil)
			if temp != nil {
				temp.retarget(ctx, opts.IO, ch)
			}
		},
	}
	return l.Run(ctx)
}

// printChannel prints where deliveries to ch go, where to set its URL
// (unless a temporary webhook is set to it), and how to keep it.
func printChannel(opts *listenOptions, ch relay.Channel, temporary bool) {
	fmt.Fprintf(opts.IO.Out, "Forwarding %s -> %s\n", ch.URL, redact.URL(opts.ForwardTo))
	switch {
	case temporary:
	case relay.IsEndpointURL(opts.ForwardTo):
		fmt.Fprintf(opts.IO.Out, "Set this URL on a webhook at https://huggingface.co/settings/webhooks: %s\n", ch.URL)
	default:
		fmt.Fprintf(opts.IO.Out, "Set %s/webhooks/NAME on a webhook at https://huggingface.co/settings/webhooks: it reaches /webhooks/NAME under %s; nothing else passes.\n",
			ch.URL, redact.URL(opts.ForwardTo))
	}
	fmt.Fprintf(opts.IO.ErrOut, "To keep this URL next time: --channel %s --channel-token %s\n", ch.ID, ch.Token)
}

// envDefault returns v, or the environment variable key when v is empty.
func envDefault(v, key string) string {
	if v != "" {
		return v
	}
	return os.Getenv(key)
}

// printForwarded prints one line per delivery: time, scope, action, repo,
// local status and duration.
func printForwarded(w io.Writer, f relay.Forwarded) {
	scope, action, repo := f.Scope, f.Action, f.Repo
	if scope == "" {
		scope, action, repo = "-", "-", "-"
	}
	line := fmt.Sprintf("%s  %s %s %s  %d  %s", f.Time.Format(time.DateTime), scope, action, repo, f.Status, f.Duration.Round(time.Millisecond))
	if f.Err != nil {
		line += "  error: " + f.Err.Error()
	}
	fmt.Fprintln(w, line)
}

// cleanupLeftovers finds the temporary webhooks an earlier listen on the
// same relay left behind, and deletes them with --cleanup or when the user
// agrees on a terminal; without a terminal to ask on, it refuses to go on.
func cleanupLeftovers(ctx context.Context, opts *listenOptions, client *hub.Client) error {
	hooks, err := client.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	var stale []hub.Webhook
	for _, w := range hooks {
		if relay.IsTemporaryWebhookURL(w.URL, opts.Relay) {
			stale = append(stale, w)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "Found %d webhook(s) left by an earlier \"hfhooks listen\" on this relay:\n", len(stale))
	for _, w := range stale {
		fmt.Fprintf(opts.IO.ErrOut, "  %s  %s  %s\n", w.ID, joinWatched(w.Watched), redact.URL(w.URL))
	}
	if !opts.Cleanup {
		yes, err := confirm(opts.IO, "Delete them? (a listen still running on them would stop receiving)", "--cleanup")
		if err != nil || !yes {
			return err
		}
	}
	for _, w := range stale {
		if err := client.DeleteWebhook(ctx, w.ID); err != nil {
			return fmt.Errorf("deleting webhook %s: %w", w.ID, err)
		}
		fmt.Fprintf(opts.IO.ErrOut, "Deleted webhook %s.\n", w.ID)
	}
	return nil
}

// temporaryWebhook is a webhook that listen or serve --relay created on
// the Hub, and deletes when it stops.
type temporaryWebhook struct {
	client *hub.Client
	id     string
	// path follows the channel's URL in the webhook's URL: empty, or
	// /webhooks/NAME.
	path string
}

// createTemporary creates a temporary webhook that delivers the events of
// watched to channel ch, plus path.
func createTemporary(ctx context.Context, s *ioStreams, client *hub.Client, ch relay.Channel, path string, watched []hub.WatchedItem, domains []string, secret string) (*temporaryWebhook, error) {
	create := hub.CreateWebhookOptions{URL: relay.TemporaryWebhookURL(ch.URL + path), Watched: watched, Secret: secret}
	if len(domains) > 0 {
		create.Domains = parseDomains(domains)
	}
	w, err := client.CreateWebhook(ctx, create)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(s.Out, "Created webhook %s watching %s; it is deleted when this command stops.\n", w.ID, joinWatched(w.Watched))
	return &temporaryWebhook{client: client, id: w.ID, path: path}, nil
}

// retarget points the webhook at channel ch, which replaced the one it
// delivered to; on failure, it says how to do it by hand.
func (w *temporaryWebhook) retarget(ctx context.Context, s *ioStreams, ch relay.Channel) {
	url := relay.TemporaryWebhookURL(ch.URL + w.path)
	if _, err := w.client.UpdateWebhook(ctx, w.id, hub.UpdateWebhookOptions{URL: &url}); err != nil {
		fmt.Fprintf(s.ErrOut, "Could not point webhook %s at the new channel: %v\nDo it with: hfhooks webhooks update %s --url '%s'\n", w.id, redact.Error(err), w.id, url)
		return
	}
	fmt.Fprintf(s.Out, "Updated webhook %s: it delivers to the new channel.\n", w.id)
}

// remove deletes the webhook, even once ctx has ended (on Ctrl-C).
func (w *temporaryWebhook) remove(ctx context.Context, s *ioStreams) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := w.client.DeleteWebhook(ctx, w.id); err != nil {
		fmt.Fprintf(s.ErrOut, "Could not delete webhook %s: %v\nDelete it with: hfhooks webhooks delete %s\n", w.id, redact.Error(err), w.id)
		return
	}
	fmt.Fprintf(s.Out, "Deleted webhook %s.\n", w.id)
}
