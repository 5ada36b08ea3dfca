package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/internal/web"
	"github.com/spf13/cobra"
)

// defaultHubAddr is where "hfhooks hub" listens, and where "hub emit" looks
// for it when neither --hub nor HF_ENDPOINT says otherwise.
const defaultHubAddr = "127.0.0.1:9000"

// hubOptions are the inputs of "hfhooks hub".
type hubOptions struct {
	io           *ioStreams
	addr         string
	tokens       []string
	oauthClient  string
	timeout      time.Duration
	retries      []time.Duration
	suspendAfter int
	rateLimit    int
}

// newHubCmd builds "hfhooks hub" and its subcommand emit.
func newHubCmd(s *ioStreams) *cobra.Command {
	opts := &hubOptions{io: s}
	cmd := &cobra.Command{
		Use:   "hub",
		Short: "Run a local Hugging Face Hub emulator: webhook API, events, deliveries",
		Long: `Run a local emulator of the Hub's side of webhooks.

It serves the webhook management API at /api/settings/webhooks, so that
"hfhooks webhooks", the hub Go package and huggingface_hub work against it
with HF_ENDPOINT set to its URL. Events emitted with "hfhooks hub emit" (or
the web page at /) are delivered to the matching webhooks with the Hub's
rules: a timeout, retries, suspension after repeated failures and a rate
limit. Each webhook's activity, with Replay, is on the web page.

It also serves /api/whoami-v2 and the discussion API a bot uses (comment,
change the status or title, merge, edit or hide a comment), acting as the
token's user on the discussions emitted events made, and emits the events
they cause: a bot's comment comes back as a discussion.comment.create.

Each --token is a user who sees only its own webhooks; without --token, a
random token is made. The tokens are printed at start.

It is also the Hub's OpenID provider, for "Sign in with Hugging Face": point
OPENID_PROVIDER_URL at its URL, with the OAuth client it prints (or the one
of --oauth-client), and sign in with one of its tokens. --token TOKEN=USER
sets the token's user name, and TOKEN=USER:ORG,ORG its orgs too; a token
without a user gets one named user1, user2... Any redirect URI is accepted.`,
		Example: `  hfhooks hub
  hfhooks hub --addr 127.0.0.1:9000 --token hf_me --token hf_other --retry-schedule 1s,5s
  hfhooks hub --token hf_me=alice:acme,huggingface --oauth-client my-space:s3cret`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHub(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.addr, "addr", defaultHubAddr, "`HOST:PORT` to listen on")
	f.StringArrayVar(&opts.tokens, "token", nil, "a token the API accepts, as `TOKEN[=USER[:ORG,ORG...]]` with its user and orgs (repeatable; default: one random token)")
	f.StringVar(&opts.oauthClient, "oauth-client", "", "the OAuth client of the OpenID provider, as `ID:SECRET` (default: a random one)")
	f.DurationVar(&opts.timeout, "timeout", hubtest.DefaultTimeout, "how long a delivery may take before it counts as failed")
	f.DurationSliceVar(&opts.retries, "retry-schedule", hubtest.DefaultRetrySchedule, "waits before each retry of a failed delivery (empty: no retry)")
	f.IntVar(&opts.suspendAfter, "suspend-after", hubtest.DefaultSuspendAfter, "suspend a webhook after this many failed events in a row (0: never)")
	f.IntVar(&opts.rateLimit, "rate-limit", hubtest.DefaultRateLimit, "events per webhook per 24h (0: no limit)")
	cmd.AddCommand(newHubEmitCmd(s))
	return cmd
}

// runHub serves the emulator until ctx ends or SIGINT or SIGTERM arrives.
func runHub(ctx context.Context, opts *hubOptions) error {
	hubOpts, err := accountOptions(opts.tokens, opts.oauthClient)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	h := hubtest.New(append(hubOpts,
		hubtest.WithTimeout(opts.timeout),
		hubtest.WithRetrySchedule(opts.retries...),
		hubtest.WithSuspendAfter(opts.suspendAfter),
		hubtest.WithRateLimit(opts.rateLimit, hubtest.DefaultRateWindow),
		hubtest.WithLogger(slog.New(slog.NewTextHandler(opts.io.ErrOut, nil))),
	)...)
	defer h.Close()
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	printHubBanner(opts.io, web.ListenURL(ln.Addr()), h)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("hub: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.Close() // ends pending deliveries, and the waits of emit requests
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("hub: shutdown: %w", err)
	}
	return nil
}

// accountOptions turns the --token values, TOKEN or TOKEN=USER[:ORG,ORG...],
// and the --oauth-client value, ID:SECRET, into options. Its errors never
// show a token or a secret.
func accountOptions(tokens []string, oauthClient string) ([]hubtest.Option, error) {
	const form = "want TOKEN or TOKEN=USER[:ORG,ORG...], names of letters, digits, '-', '_' and '.'"
	var opts []hubtest.Option
	for _, v := range tokens {
		token, user, hasUser := strings.Cut(v, "=")
		if token == "" {
			return nil, usageErrorf("--token: the token is empty; %s", form)
		}
		if !hasUser {
			opts = append(opts, hubtest.WithTokens(token))
			continue
		}
		name, orgs, hasOrgs := strings.Cut(user, ":")
		if !validName(name) {
			return nil, usageErrorf("--token: invalid user name %q; %s", name, form)
		}
		u := hubtest.User{Name: name}
		if hasOrgs {
			for o := range strings.SplitSeq(orgs, ",") {
				if !validName(o) {
					return nil, usageErrorf("--token: invalid org name %q for user %s; %s", o, name, form)
				}
				u.Orgs = append(u.Orgs, o)
			}
		}
		opts = append(opts, hubtest.WithUser(token, u))
	}
	if oauthClient != "" {
		id, secret, _ := strings.Cut(oauthClient, ":")
		if id == "" || secret == "" {
			return nil, usageErrorf("--oauth-client: want ID:SECRET, neither empty")
		}
		opts = append(opts, hubtest.WithOAuthClient(id, secret))
	}
	return opts, nil
}

// validName reports whether s is a user or org name: letters, digits, '-',
// '_' and '.'.
func validName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(c rune) bool {
		return !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.')
	})
}

// printHubBanner says where the emulator is and how to point tools at it.
func printHubBanner(s *ioStreams, url string, h *hubtest.Hub) {
	tokens := h.Tokens()
	fmt.Fprintf(s.Out, "Hub emulator running on %s\n", url)
	for _, t := range tokens {
		u, _ := h.User(t)
		orgs := ""
		if len(u.Orgs) > 0 {
			orgs = "; orgs " + strings.Join(u.Orgs, ", ")
		}
		fmt.Fprintf(s.Out, "Token: %s (user %s%s)\n", t, u.Name, orgs)
	}
	fmt.Fprintf(s.Out, "\nPoint hfhooks webhooks, the hub package or huggingface_hub at it:\n  export HF_ENDPOINT=%s HF_TOKEN=%s\n", url, tokens[0])
	fmt.Fprintf(s.Out, "Emit an event:\n  hfhooks hub emit repo.content --repo model:you/your-model\n")
	fmt.Fprintf(s.Out, "Web page (sign in with a token): %s/\n", url)
	id, secret := h.OAuthClient()
	fmt.Fprintf(s.Out, "Sign in with Hugging Face (OpenID provider; sign in with a token), for a receiver:\n"+
		"  export OPENID_PROVIDER_URL=%s\n  export OAUTH_CLIENT_ID=%s\n  export OAUTH_CLIENT_SECRET=%s\n", url, id, secret)
}
