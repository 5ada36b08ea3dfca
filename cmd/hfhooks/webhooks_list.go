package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/spf13/cobra"
)

// webhooksListOptions are the inputs of "webhooks list".
type webhooksListOptions struct {
	IO        *ioStreams
	HubClient func() (*hub.Client, error)
	outputFlags
}

func newWebhooksListCmd(f *webhooksFactory) *cobra.Command {
	opts := &webhooksListOptions{IO: f.io, HubClient: f.hubClient}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List your webhooks",
		Long: `List your webhooks. Secrets are masked as ****, and the password and
query values of webhook URLs as xxxxx (?secret=xxxxx), unless --show-secret
is given.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.check(cmd); err != nil {
				return err
			}
			return runWebhooksList(cmd.Context(), opts)
		},
	}
	opts.add(cmd, formatTable)
	return cmd
}

// runWebhooksList prints the token's webhooks in opts.Format.
func runWebhooksList(ctx context.Context, opts *webhooksListOptions) error {
	client, err := opts.HubClient()
	if err != nil {
		return err
	}
	hooks, err := client.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	shown := make([]hub.Webhook, len(hooks))
	for i, h := range hooks {
		shown[i] = masked(h, opts.ShowSecret)
	}
	out := opts.IO.Out
	switch opts.Format {
	case formatJSON:
		return writeJSON(out, shown)
	case formatQuiet:
		for _, h := range hooks {
			fmt.Fprintln(out, h.ID)
		}
		return nil
	}
	if len(hooks) == 0 {
		fmt.Fprintln(out, "No webhooks found.")
		return nil
	}
	tw := newTable(out)
	fmt.Fprintln(tw, "ID\tURL\tDISABLED\tDOMAINS\tWATCHED")
	for _, h := range shown {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.ID, target(h), strconv.FormatBool(h.Disabled), joinDomains(h.Domains), joinWatched(h.Watched))
	}
	return tw.Flush()
}
