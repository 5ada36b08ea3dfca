package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/internal/web"
	"github.com/hfhooks/hfhooks/relay"
)

// serveViaRelay runs srv on its address and, through a new channel of the
// relay at opts.relay, receives the Hub's deliveries to its endpoints: a
// delivery to <channel>/webhooks/NAME goes to the local /webhooks/NAME.
// With watched items, it creates a temporary webhook per endpoint, with
// the server's secret, deleted when it stops. It is "hfhooks serve
// --relay".
//
// The local server never stops because of the relay. When the relay is
// down or restarting, the listener reconnects with backoff, logging each
// change of state with logger; when the relay no longer knows the
// channel, it creates a new one, prints its URLs and points the temporary webhooks at
// it; when the relay refuses it for good, that is logged, and the local
// server and its queue go on.
func serveViaRelay(ctx context.Context, opts *serveOptions, srv *hfhooks.Server, watched []hub.WatchedItem, logger *slog.Logger) error {
	s := opts.io
	ctx, stop := srv.NotifyContext(ctx)
	defer stop()
	token := os.Getenv(relayTokenEnv)
	ch, err := relay.CreateChannel(ctx, nil, opts.relay, token)
	if err != nil {
		return err
	}
	var temps []*temporaryWebhook
	if len(watched) > 0 {
		client, err := hub.NewClient()
		if err != nil {
			return err
		}
		secret := os.Getenv("WEBHOOK_SECRET")
		if len(opts.secrets) > 0 {
			secret = opts.secrets[0]
		}
		for _, name := range srv.Endpoints() {
			w, err := createTemporary(ctx, s, client, ch, "/webhooks/"+name, watched, opts.domains, secret)
			if err != nil {
				return err
			}
			defer w.remove(ctx, s)
			temps = append(temps, w)
		}
	}
	ln, err := net.Listen("tcp", srv.Addr())
	if err != nil {
		return fmt.Errorf("hfhooks: %w", err)
	}
	printPublicURLs(s.Out, "Public URLs through the relay (set one on a webhook at https://huggingface.co/settings/webhooks):", ch, srv.Endpoints())
	l := &relay.Listener{
		RelayURL:   opts.relay,
		RelayToken: token,
		Channel:    ch,
		ForwardTo:  web.ListenURL(ln.Addr()),
		Logger:     logger,
		OnChannel: func(ch relay.Channel) {
			printPublicURLs(s.Out, "The relay no longer knows the channel (it expired, or the relay restarted without --state). New public URLs:", ch, srv.Endpoints())
			for _, w := range temps {
				w.retarget(ctx, s, ch)
			}
		},
	}
	relayCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		if err := l.Run(relayCtx); err != nil {
			logger.Error("no longer receiving through the relay; the local server goes on", "err", err)
		}
	}()
	err = srv.Serve(ctx, ln)
	cancel()
	<-relayDone
	return err
}

// printPublicURLs prints heading, then the URL of each endpoint through
// channel ch.
func printPublicURLs(w io.Writer, heading string, ch relay.Channel, endpoints []string) {
	fmt.Fprintln(w, heading)
	for _, name := range endpoints {
		fmt.Fprintf(w, "  - POST %s/webhooks/%s\n", ch.URL, name)
	}
}
