package main

import (
	"context"
	"fmt"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/spf13/cobra"
)

// webhooksUpdateOptions are the inputs of "webhooks update"; a nil field is
// left as it is on the Hub.
type webhooksUpdateOptions struct {
	IO        *ioStreams
	HubClient func() (*hub.Client, error)
	ID        string
	URL       *string
	Watch     []string
	Domains   []string
	Secret    *string
}

func newWebhooksUpdateCmd(f *webhooksFactory) *cobra.Command {
	opts := &webhooksUpdateOptions{IO: f.io, HubClient: f.hubClient}
	var url, secret string
	cmd := &cobra.Command{
		Use:   "update ID [--url URL] [--watch TYPE:NAME]... [--domain DOMAIN]... [--secret SECRET]",
		Short: "Change a webhook; only the options given change",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if cmd.Flags().Changed("url") {
				opts.URL = &url
			}
			if cmd.Flags().Changed("secret") {
				opts.Secret = &secret
			}
			return runWebhooksUpdate(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "new URL that receives the deliveries")
	cmd.Flags().StringArrayVar(&opts.Watch, "watch", nil, "new watched list, as type:name; repeatable; replaces the current list")
	cmd.Flags().StringArrayVar(&opts.Domains, "domain", nil, "new domains: repo or discussion; repeatable; replaces the current list")
	cmd.Flags().StringVar(&secret, "secret", "", "new secret (an empty value removes it)")
	return cmd
}

// runWebhooksUpdate changes what opts gives of a webhook and prints it as
// JSON, its secrets masked.
func runWebhooksUpdate(ctx context.Context, opts *webhooksUpdateOptions) error {
	if opts.URL == nil && opts.Secret == nil && opts.Watch == nil && opts.Domains == nil {
		return usageErrorf("nothing to update: give --url, --watch, --domain or --secret")
	}
	if opts.URL != nil {
		if err := checkURLFlag("--url", *opts.URL, webhookURLExample); err != nil {
			return err
		}
	}
	update := hub.UpdateWebhookOptions{URL: opts.URL, Secret: opts.Secret}
	if opts.Watch != nil {
		watched, err := parseWatched(opts.Watch)
		if err != nil {
			return err
		}
		update.Watched = watched
	}
	if opts.Domains != nil {
		update.Domains = parseDomains(opts.Domains)
	}
	client, err := opts.HubClient()
	if err != nil {
		return err
	}
	h, err := client.UpdateWebhook(ctx, opts.ID, update)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "Webhook updated: %s\n", h.ID)
	return writeJSON(opts.IO.Out, masked(*h, false))
}
