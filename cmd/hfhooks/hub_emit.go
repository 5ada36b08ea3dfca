package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/internal/sample"
	"github.com/spf13/cobra"
)

// hubEmitOptions are the inputs of "hfhooks hub emit".
type hubEmitOptions struct {
	io         *ioStreams
	httpClient *http.Client

	kind   string
	repo   string
	hubURL string
	token  string
	sets   []string
	wait   time.Duration
}

func newHubEmitCmd(s *ioStreams) *cobra.Command {
	opts := &hubEmitOptions{io: s, httpClient: http.DefaultClient}
	cmd := &cobra.Command{
		Use:   "emit KIND --repo TYPE:NAME",
		Short: "Make a running Hub emulator emit an event",
		Long: `Make a running Hub emulator ("hfhooks hub") emit an event, which it delivers
to the matching webhooks. The deliveries to your webhooks (the token's) are
printed once they are done, or when --wait is over.

The emulator is --hub, else HF_ENDPOINT, else http://` + defaultHubAddr + `; the
token is --token, else HF_TOKEN. KIND is one of: ` + strings.Join(sample.Kinds(), ", ") + ".",
		Example: `  hfhooks hub emit repo.content --repo model:acme/sentiment-model
  hfhooks hub emit discussion.create --repo space:acme/demo --set discussion.title='Fix the demo'
  hfhooks hub emit repo.config --repo dataset:acme/reviews --set updatedConfig='{}' --wait 0`,
		Args:      exactArgs("KIND"),
		ValidArgs: sample.Kinds(),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.kind = args[0]
			return runHubEmit(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.repo, "repo", "", "repository as `TYPE:NAME`, for example space:acme/demo (required)")
	f.StringVar(&opts.hubURL, "hub", "", "`URL` of the emulator (default: HF_ENDPOINT or http://"+defaultHubAddr+")")
	f.StringVar(&opts.token, "token", "", "token of the emulator (default: HF_TOKEN)")
	f.StringArrayVar(&opts.sets, "set", nil, "override a payload field as `path=value` (repeatable; value is JSON when valid)")
	f.DurationVar(&opts.wait, "wait", 10*time.Second, "wait up to this long for the deliveries to be done (0: do not wait)")
	return cmd
}

// runHubEmit asks the emulator to emit the event, and prints what became of
// it for each of the token's webhooks that watch its repository.
func runHubEmit(ctx context.Context, opts *hubEmitOptions) error {
	if !slices.Contains(sample.Kinds(), opts.kind) {
		return usageErrorf("unknown kind %q (valid kinds: %s)", opts.kind, strings.Join(sample.Kinds(), ", "))
	}
	if opts.repo == "" {
		return usageErrorf("--repo is required: the repository as TYPE:NAME, for example space:acme/demo")
	}
	if typ, name, ok := strings.Cut(opts.repo, ":"); !ok || typ == "" || name == "" {
		return usageErrorf("--repo %q: want TYPE:NAME, for example space:acme/demo", opts.repo)
	}
	ev := hubtest.Event{Kind: opts.kind, Repo: opts.repo}
	for _, s := range opts.sets {
		path, value, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			return usageErrorf("--set %q: want path=value", s)
		}
		if ev.Set == nil {
			ev.Set = map[string]string{}
		}
		ev.Set[path] = value
	}
	url, from := opts.hubURL, "--hub"
	if url == "" {
		url, from = os.Getenv("HF_ENDPOINT"), "HF_ENDPOINT"
	}
	if url == "" {
		url = "http://" + defaultHubAddr
	} else if err := checkURLFlag(from, url, "http://"+defaultHubAddr); err != nil {
		return err
	}
	token := firstOf(opts.token, os.Getenv("HF_TOKEN"))
	if token == "" {
		return usageErrorf("a token is required: pass --token or set HF_TOKEN (\"hfhooks hub\" prints its tokens)")
	}
	e, err := hubtest.EmitTo(ctx, opts.httpClient, url, token, ev, opts.wait)
	if err != nil {
		return err
	}
	out := opts.io.Out
	fmt.Fprintf(out, "Event %s: %s %s on %s\n", e.EventID, e.Scope, e.Action, e.Repo)
	if len(e.Deliveries) == 0 && len(e.Skipped) == 0 {
		fmt.Fprintf(out, "No webhook of yours watches %s or its owner.\n", e.Repo)
	}
	for _, d := range e.Deliveries {
		fmt.Fprintf(out, "  webhook %s: %s\n", d.WebhookID, deliverySummary(d))
	}
	for _, sk := range e.Skipped {
		fmt.Fprintf(out, "  webhook %s: not sent: %s\n", sk.WebhookID, sk.Reason)
	}
	return nil
}

// deliverySummary describes a delivery's state and its last attempt.
func deliverySummary(d hubtest.Delivery) string {
	s := string(d.State)
	if n := len(d.Attempts); n > 0 {
		a := d.Attempts[n-1]
		what := a.Error
		if a.StatusCode != 0 {
			what = fmt.Sprintf("%d", a.StatusCode)
		}
		s += fmt.Sprintf(" (attempt %d: %s in %s)", n, what, a.Duration.Round(time.Microsecond))
	}
	if d.Reason != "" {
		s += ": " + d.Reason
	}
	return s
}

// firstOf returns the first value that is not empty.
func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
