package main

import (
	"context"
	"fmt"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/spf13/cobra"
)

// webhooksDeleteOptions are the inputs of "webhooks delete".
type webhooksDeleteOptions struct {
	IO        *ioStreams
	HubClient func() (*hub.Client, error)
	ID        string
	Yes       bool
}

func newWebhooksDeleteCmd(f *webhooksFactory) *cobra.Command {
	opts := &webhooksDeleteOptions{IO: f.io, HubClient: f.hubClient}
	cmd := &cobra.Command{
		Use:        "delete ID",
		Aliases:    []string{"rm"},
		SuggestFor: []string{"remove"},
		Short:      "Delete a webhook",
		Long:       "Delete a webhook. Without --yes, asks for confirmation, which needs a terminal.",
		Args:       exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runWebhooksDelete(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking for confirmation")
	return cmd
}

// runWebhooksDelete deletes a webhook, once confirmed.
func runWebhooksDelete(ctx context.Context, opts *webhooksDeleteOptions) error {
	if !opts.Yes {
		yes, err := confirm(opts.IO, fmt.Sprintf("Delete webhook %s?", opts.ID), "--yes")
		if err != nil {
			return err
		}
		if !yes {
			return fmt.Errorf("webhook %s not deleted", opts.ID)
		}
	}
	client, err := opts.HubClient()
	if err != nil {
		return err
	}
	if err := client.DeleteWebhook(ctx, opts.ID); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "Webhook deleted: %s\n", opts.ID)
	return nil
}
