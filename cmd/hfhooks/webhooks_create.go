package main

import (
	"context"
	"fmt"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/spf13/cobra"
)

// webhooksCreateOptions are the inputs of "webhooks create".
type webhooksCreateOptions struct {
	IO        *ioStreams
	HubClient func() (*hub.Client, error)
	URL       string
	JobID     string
	Watch     []string
	Domains   []string
	Secret    string
}

func newWebhooksCreateCmd(f *webhooksFactory) *cobra.Command {
	opts := &webhooksCreateOptions{IO: f.io, HubClient: f.hubClient}
	cmd := &cobra.Command{
		Use:   "create --watch TYPE:NAME... (--url URL | --job-id ID)",
		Short: "Create a webhook",
		Example: `  hfhooks webhooks create --watch user:julien-c --watch org:HuggingFaceH4 \
    --url https://webhook.site/your-custom-url --domain repo --domain discussion --secret my-secret
  hfhooks webhooks create --watch dataset:me/data --job-id 687f911eaea852de79c4a50a`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWebhooksCreate(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Watch, "watch", nil, "what to watch, as type:name (type: dataset, model, org, space or user); repeatable")
	cmd.Flags().StringVar(&opts.URL, "url", "", "URL that receives the deliveries")
	cmd.Flags().StringVar(&opts.JobID, "job-id", "", "id of a Job to run on each event, instead of --url")
	cmd.Flags().StringArrayVar(&opts.Domains, "domain", nil, "event domain: repo or discussion; repeatable (default: all)")
	cmd.Flags().StringVar(&opts.Secret, "secret", "", "secret sent in the X-Webhook-Secret header (ASCII)")
	return cmd
}

// runWebhooksCreate creates a webhook and prints it as JSON, its secrets
// masked.
func runWebhooksCreate(ctx context.Context, opts *webhooksCreateOptions) error {
	switch {
	case opts.URL != "" && opts.JobID != "":
		return usageErrorf("give --url or --job-id, not both")
	case opts.URL == "" && opts.JobID == "":
		return usageErrorf("one of --url or --job-id is required")
	case len(opts.Watch) == 0:
		return usageErrorf("at least one --watch TYPE:NAME is required")
	}
	if opts.URL != "" {
		if err := checkURLFlag("--url", opts.URL, webhookURLExample); err != nil {
			return err
		}
	}
	watched, err := parseWatched(opts.Watch)
	if err != nil {
		return err
	}
	create := hub.CreateWebhookOptions{URL: opts.URL, JobID: opts.JobID, Watched: watched, Secret: opts.Secret}
	if len(opts.Domains) > 0 {
		create.Domains = parseDomains(opts.Domains)
	}
	client, err := opts.HubClient()
	if err != nil {
		return err
	}
	h, err := client.CreateWebhook(ctx, create)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "Webhook created: %s\n", h.ID)
	return writeJSON(opts.IO.Out, masked(*h, false))
}
