package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/spf13/cobra"
)

// deleteOptions are the inputs of "webhooks delete".
type webhooksDeleteOptions struct {
	IO         *ioStreams
	HubClient  func() (*hub.Client, error)
	IsTerminal func() bool
	ID         string
	Yes        bool
}

func newWebhooksDeleteCmd(f *webhooksFactory) *cobra.Command {
	opts := &webhooksDeleteOptions{IO: f.io, HubClient: f.hubClient, IsTerminal: f.isTerminal}
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a webhook",
		Long:  "Delete a webhook. Without --yes, asks for confirmation, which needs a terminal.",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runWebhooksDelete(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking for confirmation")
	return cmd
}

func runWebhooksDelete(ctx context.Context, opts *webhooksDeleteOptions) error {
	if !opts.Yes {
		if !opts.IsTerminal() {
			return usageErrorf("not deleting webhook %s: stdin is not a terminal to confirm on; pass --yes to delete without confirmation", opts.ID)
		}
		fmt.Fprintf(opts.IO.ErrOut, "Delete webhook %s? [y/N] ", opts.ID)
		answer, _ := bufio.NewReader(opts.IO.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return fmt.Errorf("webhook %s not deleted", opts.ID)
		}
	}
	client, err := opts.HubClient()
	if err != nil {
		return err
	}
	if err := client.DeleteWebhook(ctx, opts.ID); err != nil {
		return cliError(err)
	}
	fmt.Fprintf(opts.IO.Out, "Webhook %s deleted.\n", opts.ID)
	return nil
}
