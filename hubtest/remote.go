package hubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// EmitTo asks the Hub emulator at hubURL (one started by "hfhooks hub", for
// example) to emit ev, authenticated with token, through POST
// /api/emulator/events. With wait > 0, the emulator first waits up to that
// long for the deliveries to be final. The answer lists only the deliveries
// to token's webhooks. A nil client means http.DefaultClient.
func EmitTo(ctx context.Context, client *http.Client, hubURL, token string, ev Event, wait time.Duration) (*Emitted, error) {
	if client == nil {
		client = http.DefaultClient
	}
	q := emitRequest{Kind: ev.Kind, Repo: ev.Repo, Set: map[string]json.RawMessage{}}
	for k, v := range ev.Set {
		if json.Valid([]byte(v)) {
			q.Set[k] = json.RawMessage(v)
		} else {
			q.Set[k], _ = json.Marshal(v)
		}
	}
	body, err := json.Marshal(q)
	if err != nil {
		return nil, fmt.Errorf("hubtest: encoding the event: %w", err)
	}
	u := strings.TrimRight(hubURL, "/") + "/api/emulator/events"
	if wait > 0 {
		u += "?" + url.Values{"wait": {wait.String()}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("hubtest: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("hubtest: emit: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("hubtest: emit: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		if json.Unmarshal(raw, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(raw))
		}
		return nil, fmt.Errorf("hubtest: emit: %s: %s", resp.Status, eb.Error)
	}
	var e Emitted
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("hubtest: emit: decoding the answer: %w", err)
	}
	return &e, nil
}
