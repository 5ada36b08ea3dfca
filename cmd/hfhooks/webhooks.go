package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/internal/redact"
)

// webhooksFactory is what the webhooks commands share: the streams, and a
// way to build a Hub client from the persistent flags.
type webhooksFactory struct {
	io        *ioStreams
	hubClient func() (*hub.Client, error)
}

// newWebhooksCmd builds "hfhooks webhooks" and its subcommands.
func newWebhooksCmd(s *ioStreams) *cobra.Command {
	var token, endpoint string
	f := &webhooksFactory{
		io: s,
		hubClient: func() (*hub.Client, error) {
			if endpoint != "" {
				if err := checkURLFlag("--endpoint", endpoint, "https://huggingface.co"); err != nil {
					return nil, err
				}
			}
			return hub.NewClient(hub.WithToken(token), hub.WithEndpoint(endpoint))
		},
	}
	cmd := &cobra.Command{
		Use:   "webhooks",
		Short: "Manage your Hugging Face Hub webhooks",
		Long: `Manage the webhooks of your Hugging Face account (https://huggingface.co/settings/webhooks).

The token is taken from --token, else HF_TOKEN, else the file written by
"hf auth login". The Hub is --endpoint, else HF_ENDPOINT, else
https://huggingface.co.`,
	}
	cmd.PersistentFlags().StringVar(&token, "token", "", "Hugging Face token (default: HF_TOKEN or the cached login token)")
	cmd.PersistentFlags().StringVar(&endpoint, "endpoint", "", "Hub URL (default: HF_ENDPOINT or https://huggingface.co)")
	cmd.AddCommand(
		newWebhooksListCmd(f),
		newWebhooksInfoCmd(f),
		newWebhooksCreateCmd(f),
		newWebhooksUpdateCmd(f),
		newWebhooksToggleCmd(f, true),
		newWebhooksToggleCmd(f, false),
		newWebhooksDeleteCmd(f),
	)
	return cmd
}

// webhookURLExample is the example of a webhook's URL in messages.
const webhookURLExample = "https://you-app.hf.space/webhooks/inbox"

// Output formats of list and info.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatQuiet = "quiet"
)

// outputFlags are the flags of the commands that print webhooks.
type outputFlags struct {
	Format     string
	Quiet      bool
	ShowSecret bool
}

// add registers the output flags on cmd, with format the default of
// --format.
func (o *outputFlags) add(cmd *cobra.Command, format string) {
	o.addFormat(cmd, format)
	cmd.Flags().BoolVar(&o.ShowSecret, "show-secret", false, "print secrets, and the password and query values of webhook URLs, instead of masking them")
}

// addFormat adds --format, with format as its default, and -q/--quiet.
func (o *outputFlags) addFormat(cmd *cobra.Command, format string) {
	cmd.Flags().StringVar(&o.Format, "format", format, "output format: table, json or quiet (ids only)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{formatTable, formatJSON, formatQuiet}, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "print ids only (--format quiet)")
}

// check rejects an unknown format, or --quiet with another format, as a
// usage error; --quiet sets the format to quiet.
func (o *outputFlags) check(cmd *cobra.Command) error {
	if o.Quiet {
		if cmd.Flags().Changed("format") && o.Format != formatQuiet {
			return usageErrorf("--quiet prints ids only: give it or --format %s, not both", o.Format)
		}
		o.Format = formatQuiet
	}
	switch o.Format {
	case formatTable, formatJSON, formatQuiet:
		return nil
	}
	return usageErrorf("invalid --format %q: want table, json or quiet", o.Format)
}

// secretMask replaces secrets in output unless --show-secret is given.
const secretMask = "****"

// masked returns w with its secrets (its own and its Job's) masked, and the
// password and query values of its URL redacted (a Space's receiver may take
// its secret as ?secret=), unless show.
func masked(w hub.Webhook, show bool) hub.Webhook {
	if show {
		return w
	}
	w.URL = redact.URL(w.URL)
	if w.Secret != "" {
		w.Secret = secretMask
	}
	if w.Job != nil && len(w.Job.Secrets) > 0 {
		job := *w.Job
		job.Secrets = maps.Clone(job.Secrets)
		for k := range job.Secrets {
			job.Secrets[k] = secretMask
		}
		w.Job = &job
	}
	return w
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// newTable returns a tabwriter for aligned columns; call Flush when done.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// target is the URL of a webhook, or "(job)" for one that runs a Job.
func target(w hub.Webhook) string {
	if w.URL == "" && w.Job != nil {
		return "(job)"
	}
	return w.URL
}

// joinDomains prints domains as "repo,discussion", and no domains, which
// means every domain, as "all".
func joinDomains(ds []hub.Domain) string {
	if len(ds) == 0 {
		return "all"
	}
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = string(d)
	}
	return strings.Join(s, ",")
}

// joinWatched prints watched items as "type:name,type:name".
func joinWatched(ws []hub.WatchedItem) string {
	s := make([]string, len(ws))
	for i, w := range ws {
		s[i] = string(w.Type) + ":" + w.Name
	}
	return strings.Join(s, ",")
}

// parseWatched parses --watch values of the form type:name, split at the
// first colon.
func parseWatched(values []string) ([]hub.WatchedItem, error) {
	items := make([]hub.WatchedItem, 0, len(values))
	for _, v := range values {
		typ, name, ok := strings.Cut(v, ":")
		if !ok || typ == "" || name == "" {
			return nil, usageErrorf("Expected format 'type:name' (e.g. 'model:bert-base-uncased') for --watch, got '%s'.", v)
		}
		if !hub.WatchedType(typ).Known() {
			return nil, usageErrorf("Invalid type '%s'. Valid types: dataset, model, org, space, user.", typ)
		}
		items = append(items, hub.WatchedItem{Type: hub.WatchedType(typ), Name: name})
	}
	return items, nil
}

// parseDomains converts --domain values; the Hub client checks them.
func parseDomains(values []string) []hub.Domain {
	ds := make([]hub.Domain, len(values))
	for i, v := range values {
		ds[i] = hub.Domain(v)
	}
	return ds
}

// argFlags maps the arguments hub.ArgumentError names to the CLI's flags.
var argFlags = map[string]string{
	"id": "ID", "url": "--url", "job_id": "--job-id", "watched": "--watch", "domains": "--domain", "secret": "--secret",
}

// tokenHint is what the CLI adds to the hub package's 401 errors.
const tokenHint = "Give a valid token: pass --token, set HF_TOKEN, or run `hf auth login`."

// cliError turns an invalid argument the hub package found into a usage
// error (exit code 2) that names the flag, and adds the CLI's way of giving
// a token to a 401. execute applies it to every command's error, once.
func cliError(err error) error {
	if argErr, ok := errors.AsType[*hub.ArgumentError](err); ok {
		name := argFlags[argErr.Arg]
		if name == "" {
			name = argErr.Arg
		}
		return usageErrorf("invalid %s: %s", name, argErr.Problem)
	}
	if errors.Is(err, hub.ErrUnauthorized) {
		return fmt.Errorf("%w\n%s", err, tokenHint)
	}
	return err
}
