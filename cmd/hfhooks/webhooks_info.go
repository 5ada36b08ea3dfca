package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/spf13/cobra"
)

// webhooksInfoOptions are the inputs of "webhooks info".
type webhooksInfoOptions struct {
	IO        *ioStreams
	HubClient func() (*hub.Client, error)
	ID        string
	outputFlags
}

func newWebhooksInfoCmd(f *webhooksFactory) *cobra.Command {
	opts := &webhooksInfoOptions{IO: f.io, HubClient: f.hubClient}
	cmd := &cobra.Command{
		Use:        "info ID",
		Aliases:    []string{"get"},
		SuggestFor: []string{"view", "show"},
		Short:      "Show one webhook, as JSON",
		Long: `Show one webhook, as JSON (as "hf webhooks info" does), or as a table with
--format table. Secrets are masked as ****, and the password and query
values of its URL as xxxxx (?secret=xxxxx), unless --show-secret is given.`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := opts.check(cmd); err != nil {
				return err
			}
			return runWebhooksInfo(cmd.Context(), opts)
		},
	}
	opts.add(cmd, formatJSON)
	return cmd
}

// runWebhooksInfo prints the webhook opts.ID in opts.Format.
func runWebhooksInfo(ctx context.Context, opts *webhooksInfoOptions) error {
	client, err := opts.HubClient()
	if err != nil {
		return err
	}
	h, err := client.GetWebhook(ctx, opts.ID)
	if err != nil {
		return err
	}
	shown := masked(*h, opts.ShowSecret)
	switch opts.Format {
	case formatJSON:
		return writeJSON(opts.IO.Out, shown)
	case formatQuiet:
		fmt.Fprintln(opts.IO.Out, h.ID)
		return nil
	}
	return writeWebhookDetails(opts.IO.Out, shown)
}

// writeWebhookDetails prints one webhook as "Field: value" lines.
func writeWebhookDetails(w io.Writer, h hub.Webhook) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "ID:\t%s\n", h.ID)
	if h.Job != nil {
		image := h.Job.DockerImage
		if image == "" {
			image = "space " + h.Job.SpaceID
		}
		fmt.Fprintf(tw, "Job:\t%s %s\n", image, strings.Join(append(h.Job.Command, h.Job.Arguments...), " "))
	} else {
		fmt.Fprintf(tw, "URL:\t%s\n", h.URL)
	}
	fmt.Fprintf(tw, "Disabled:\t%t\n", h.Disabled)
	fmt.Fprintf(tw, "Domains:\t%s\n", joinDomains(h.Domains))
	fmt.Fprintf(tw, "Watched:\t%s\n", joinWatched(h.Watched))
	if h.Secret != "" {
		fmt.Fprintf(tw, "Secret:\t%s\n", h.Secret)
	}
	return tw.Flush()
}
