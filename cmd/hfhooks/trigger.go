package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/internal/sample"
	"github.com/spf13/cobra"
)

// triggerOptions are the inputs of "hfhooks trigger".
type triggerOptions struct {
	io         *ioStreams
	httpClient *http.Client
	kind       string
	url        string
	secret     string
	repo       string
	sets       []string
	webhookID  string
	timeout    time.Duration
	dryRun     bool
}

// newTriggerCmd builds "hfhooks trigger".
func newTriggerCmd(s *ioStreams) *cobra.Command {
	opts := &triggerOptions{
		io: s,
		httpClient: &http.Client{
			// Print a redirect rather than follow it: whether the Hub
			// follows redirects is not documented, so receivers should
			// not rely on them.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	cmd := &cobra.Command{
		Use:   "trigger KIND --url URL",
		Short: "Send a sample webhook event to a receiver",
		Long:  triggerLong(),
		Example: `  hfhooks trigger repo.content --url http://localhost:8000/webhooks/sync --secret s3cret
  hfhooks trigger discussion.create --url http://localhost:8000/webhooks/bot --repo space:acme/demo
  hfhooks trigger repo.config --dry-run --set updatedConfig='{}'`,
		Args:      exactArgs("KIND"),
		ValidArgs: sample.Kinds(),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.kind = args[0]
			if !cmd.Flags().Changed("secret") {
				opts.secret = os.Getenv("WEBHOOK_SECRET")
			}
			return runTrigger(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.url, "url", "", "receiver `URL` to POST the payload to")
	f.StringVar(&opts.secret, "secret", "", "shared secret to send as X-Webhook-Secret (default $WEBHOOK_SECRET)")
	f.StringVar(&opts.repo, "repo", "", "repository as `TYPE:NAME`, for example space:acme/demo (default model:acme/sentiment-model)")
	f.StringArrayVar(&opts.sets, "set", nil, "override a payload field as `path=value`, for example repo.private=true (repeatable; value is JSON when valid)")
	f.StringVar(&opts.webhookID, "webhook-id", "", "webhook `ID` in the payload (default random)")
	f.DurationVar(&opts.timeout, "timeout", 30*time.Second, "give up when the receiver has not answered within this `duration` (0: no limit; the Hub waits 30s)")
	f.BoolVar(&opts.dryRun, "dry-run", false, "print the payload instead of sending it")
	return cmd
}

// triggerLong is the help text of "hfhooks trigger", with the kinds.
func triggerLong() string {
	var b strings.Builder
	b.WriteString(`Send a sample version 3 webhook payload to a receiver, as the Hub would.

The payload is POSTed as application/json, with the X-Webhook-Secret header
when a secret is given. The response status line and body are printed; the
exit code is 1 when the status is not 2xx, which the Hub counts as a failed
delivery.

KIND is one of:
`)
	width := 0
	for _, k := range sample.Kinds() {
		width = max(width, len(k))
	}
	for _, k := range sample.Kinds() {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, k, sample.Summary(k))
	}
	return b.String()
}

// runTrigger builds the payload and sends it, or prints it on a dry run.
func runTrigger(ctx context.Context, opts *triggerOptions) error {
	so := sample.Options{WebhookID: opts.webhookID}
	if opts.repo != "" {
		typ, name, ok := strings.Cut(opts.repo, ":")
		if !ok || typ == "" || name == "" {
			return usageErrorf("--repo %q: want TYPE:NAME, for example space:acme/demo", opts.repo)
		}
		so.RepoType, so.RepoName = typ, name
	}
	body, err := sample.JSON(opts.kind, so, opts.sets...)
	if err != nil {
		// Everything sample.JSON rejects comes from the command line.
		return &usageError{err: err}
	}
	if opts.dryRun {
		_, err := opts.io.Out.Write(body)
		return err
	}
	if opts.url == "" {
		return usageErrorf("--url is required (or use --dry-run to print the payload)")
	}
	if err := checkURLFlag("--url", opts.url, "http://127.0.0.1:7860/webhooks/inbox"); err != nil {
		return err
	}
	return postPayload(ctx, opts, body)
}

// postPayload POSTs body to the receiver and prints its answer.
func postPayload(ctx context.Context, opts *triggerOptions, body []byte) error {
	if opts.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, opts.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST %s: %w", opts.url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if opts.secret != "" {
		req.Header.Set("X-Webhook-Secret", opts.secret)
	}
	resp, err := opts.httpClient.Do(req)
	if err != nil {
		// *url.Error repeats the method and URL; say them once.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("POST %s: no answer within %s: %w", opts.url, opts.timeout, err)
		}
		return fmt.Errorf("POST %s: %w", opts.url, err)
	}
	defer resp.Body.Close()

	fmt.Fprintf(opts.io.Out, "%s %s\n", resp.Proto, resp.Status)
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", opts.url, err)
	}
	if len(answer) > 0 && !bytes.HasSuffix(answer, []byte("\n")) {
		answer = append(answer, '\n')
	}
	if _, err := opts.io.Out.Write(answer); err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s, which the Hub counts as a failed delivery", opts.url, resp.Status)
	}
	return nil
}
