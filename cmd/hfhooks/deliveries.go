package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/spf13/cobra"
)

// defaultServer is where "hfhooks serve" listens by default.
const defaultServer = "http://127.0.0.1:" + hfhooks.DefaultPort

// deliveriesOptions are the inputs of the "hfhooks deliveries" commands.
type deliveriesOptions struct {
	io         *ioStreams
	httpClient *http.Client

	server  string
	uiToken string
	outputFlags
	state  string
	limit  int
	before string
}

// newDeliveriesCmd builds "hfhooks deliveries" and its subcommands.
func newDeliveriesCmd(s *ioStreams) *cobra.Command {
	opts := &deliveriesOptions{io: s, httpClient: &http.Client{Timeout: 30 * time.Second}}
	cmd := &cobra.Command{
		Use:   "deliveries",
		Short: "List, inspect and re-run the deliveries of a running receiver",
		Long: `List, inspect and re-run the deliveries a receiver ("hfhooks serve", or a
Go program's hfhooks.Server) has recorded, through its /api/deliveries.

The receiver's page and API are for its operators: outside local development
send the operator token, with HFHOOKS_UI_TOKEN (or --ui-token, which other
users can see in ps).`,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&opts.server, "server", defaultServer, "`URL` of the receiver (with the path it is mounted under, if any)")
	f.StringVar(&opts.uiToken, "ui-token", "", "operator `TOKEN`, sent as Authorization: Bearer (default $HFHOOKS_UI_TOKEN)")
	cmd.AddCommand(newDeliveriesListCmd(opts), newDeliveriesShowCmd(opts), newDeliveriesRerunCmd(opts))
	return cmd
}

func newDeliveriesListCmd(opts *deliveriesOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the recent deliveries, newest first",
		Example: `  hfhooks deliveries ls
  hfhooks deliveries ls --state failed --format quiet --server https://you-hooks.hf.space`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.check(cmd); err != nil {
				return err
			}
			return runDeliveriesList(cmd.Context(), opts)
		},
	}
	opts.addFormat(cmd, formatTable)
	cmd.Flags().StringVar(&opts.state, "state", "", "only the deliveries in this `state`: queued, running, retrying, succeeded, failed, rejected or ignored")
	cmd.Flags().IntVar(&opts.limit, "limit", 20, "the most deliveries to list, up to 500")
	cmd.Flags().StringVar(&opts.before, "before", "", "list the page that starts at this `cursor` (printed after a full page)")
	return cmd
}

func newDeliveriesShowCmd(opts *deliveriesOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "show ID",
		Aliases: []string{"get"},
		Short:   "Show a delivery: its outcome, each attempt and its payload",
		Args:    exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDeliveriesShow(cmd.Context(), opts, args[0])
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", formatTable, "output format: table or json")
	return cmd
}

func newDeliveriesRerunCmd(opts *deliveriesOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rerun ID",
		Short: "Run a failed delivery again (durable mode)",
		Long: `Run a failed delivery again, at once: one more attempt. Only a receiver in
durable mode keeps deliveries to run again.`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDeliveriesRerun(cmd.Context(), opts, args[0])
		},
	}
}

func runDeliveriesList(ctx context.Context, opts *deliveriesOptions) error {
	if opts.state != "" && !hfhooks.DeliveryState(opts.state).Valid() {
		return usageErrorf("invalid --state %q: want queued, running, retrying, succeeded, failed, rejected or ignored", opts.state)
	}
	if opts.limit < 1 || opts.limit > hfhooks.MaxPageSize {
		return usageErrorf("invalid --limit %d: want 1 to %d", opts.limit, hfhooks.MaxPageSize)
	}
	q := url.Values{"limit": {strconv.Itoa(opts.limit)}}
	if opts.state != "" {
		q.Set("state", opts.state)
	}
	if opts.before != "" {
		q.Set("before", opts.before)
	}
	var page hfhooks.HistoryPage
	if err := opts.call(ctx, http.MethodGet, "/api/deliveries?"+q.Encode(), &page); err != nil {
		return err
	}
	out := opts.io.Out
	switch opts.Format {
	case formatJSON:
		return writeJSON(out, page)
	case formatQuiet:
		for _, d := range page.Deliveries {
			fmt.Fprintln(out, d.ID)
		}
		return nil
	}
	if len(page.Deliveries) == 0 {
		fmt.Fprintln(out, "No deliveries found.")
		return nil
	}
	tw := newTable(out)
	fmt.Fprintln(tw, "ID\tTIME (UTC)\tENDPOINT\tEVENT\tREPO\tOUTCOME\tATTEMPTS")
	for _, d := range page.Deliveries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", d.ID, d.Time.UTC().Format(time.DateTime), d.Endpoint, event(d), repo(d), d.Outcome(), d.Attempts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.Next != "" {
		fmt.Fprintf(opts.io.ErrOut, "More: hfhooks deliveries ls --before %s\n", page.Next)
	}
	return nil
}

// event is "scope action", or "" for a request that was not a payload.
func event(d hfhooks.DeliveryRecord) string {
	return strings.TrimSpace(d.Scope + " " + string(d.Action))
}

// repo is "type:name", or "".
func repo(d hfhooks.DeliveryRecord) string {
	if d.RepoName == "" {
		return ""
	}
	return string(d.RepoType) + ":" + d.RepoName
}

func runDeliveriesShow(ctx context.Context, opts *deliveriesOptions, id string) error {
	if opts.Format != formatTable && opts.Format != formatJSON {
		return usageErrorf("invalid --format %q: want table or json", opts.Format)
	}
	var d hfhooks.DeliveryDetail
	if err := opts.call(ctx, http.MethodGet, "/api/deliveries/"+url.PathEscape(id), &d); err != nil {
		return err
	}
	out := opts.io.Out
	if opts.Format == formatJSON {
		return writeJSON(out, d)
	}
	rec := d.Delivery
	tw := newTable(out)
	fmt.Fprintf(tw, "Delivery:\t%s\n", rec.ID)
	fmt.Fprintf(tw, "Endpoint:\t/webhooks/%s\n", rec.Endpoint)
	fmt.Fprintf(tw, "Received:\t%s UTC\n", rec.Time.UTC().Format(time.DateTime))
	if e := event(rec); e != "" {
		fmt.Fprintf(tw, "Event:\t%s\n", e)
	}
	if r := repo(rec); r != "" {
		fmt.Fprintf(tw, "Repo:\t%s\n", r)
	}
	fmt.Fprintf(tw, "Outcome:\t%s\n", rec.Outcome())
	if rec.DuplicateOf != "" {
		fmt.Fprintf(tw, "Duplicate of:\t%s\n", rec.DuplicateOf)
	} else if rec.Error != "" && len(d.Attempts) == 0 {
		fmt.Fprintf(tw, "Reason:\t%s\n", rec.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nAttempts:")
	if len(d.Attempts) == 0 {
		fmt.Fprintln(out, "  none: no handler ran for this request")
	}
	for _, a := range d.Attempts {
		outcome := string(a.State)
		if a.StatusCode != 0 {
			outcome = strconv.Itoa(a.StatusCode) + " → " + outcome
		}
		line := fmt.Sprintf("  %d  %s", a.Number, outcome)
		if !a.Ended.IsZero() {
			line += "  ended " + a.Ended.UTC().Format(time.DateTime)
		}
		if a.Duration > 0 {
			line += "  after " + a.Duration.Round(time.Millisecond).String()
		}
		if a.Error != "" {
			line += "  " + a.Error
		}
		fmt.Fprintln(out, line)
		if a.Output != "" {
			fmt.Fprintln(out, "     output:")
			fmt.Fprintln(out, indent(strings.TrimRight(a.Output, "\n"), "       "))
		}
	}
	fmt.Fprintln(out, "\nPayload:")
	if d.Payload == nil {
		fmt.Fprintln(out, "  not kept")
		return nil
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, d.Payload, "  ", "  ") != nil {
		pretty.Write(d.Payload)
	}
	fmt.Fprintln(out, "  "+pretty.String())
	return nil
}

// indent puts prefix before each line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func runDeliveriesRerun(ctx context.Context, opts *deliveriesOptions, id string) error {
	var answer struct {
		ID string `json:"id"`
	}
	if err := opts.call(ctx, http.MethodPost, "/api/deliveries/"+url.PathEscape(id)+"/retry", &answer); err != nil {
		return err
	}
	fmt.Fprintf(opts.io.Out, "Delivery %s queued to run again.\n", answer.ID)
	return nil
}

// call sends a request to the receiver's API with the operator token and
// decodes its JSON answer into v; an answer that is not 2xx is an error with
// the receiver's message.
func (o *deliveriesOptions) call(ctx context.Context, method, path string, v any) error {
	base, err := url.Parse(o.server)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" {
		return usageErrorf("--server %q: want the receiver's http:// or https:// URL, without a query, such as %s", redact.URL(o.server), defaultServer)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(o.server, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if token := envDefault(o.uiToken, "HFHOOKS_UI_TOKEN"); token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := o.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("reaching the receiver: %w", redact.Error(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading the receiver's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		err := fmt.Errorf("%s %s: %s: %s", method, req.URL.Path, resp.Status, e.Error)
		if resp.StatusCode == http.StatusUnauthorized {
			err = fmt.Errorf("%w; set HFHOOKS_UI_TOKEN (or --ui-token) to the receiver's operator token", err)
		}
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errors.New("the receiver's answer is not what /api/deliveries gives: is --server the URL of hfhooks serve?")
	}
	return nil
}
