package main

import (
	"context"
	"fmt"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/spf13/cobra"
)

// webhooksToggleOptions are the inputs of "webhooks enable" and "webhooks
// disable".
type webhooksToggleOptions struct {
	IO        *ioStreams
	HubClient func() (*hub.Client, error)
	ID        string
	Enable    bool
}

// newWebhooksToggleCmd builds "webhooks enable" when enable, else
// "webhooks disable".
func newWebhooksToggleCmd(f *webhooksFactory, enable bool) *cobra.Command {
	opts := &webhooksToggleOptions{IO: f.io, HubClient: f.hubClient, Enable: enable}
	cmd := &cobra.Command{
		Use:   "disable ID",
		Short: "Pause the deliveries of a webhook",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runWebhooksToggle(cmd.Context(), opts)
		},
	}
	if enable {
		cmd.Use, cmd.Short = "enable ID", "Resume the deliveries of a disabled webhook"
	}
	return cmd
}

// runWebhooksToggle enables or disables a webhook.
func runWebhooksToggle(ctx context.Context, opts *webhooksToggleOptions) error {
	client, err := opts.HubClient()
	if err != nil {
		return err
	}
	toggle, done := client.DisableWebhook, "disabled"
	if opts.Enable {
		toggle, done = client.EnableWebhook, "enabled"
	}
	h, err := toggle(ctx, opts.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "Webhook %s: %s\n", done, h.ID)
	return nil
}
