// Package hooktest sends sample webhook events to a receiver in tests, or
// builds them as deliveries to call handlers with directly.
package hooktest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/sample"
)

// Delivery returns a delivery of a sample event of kind (see sample.Kinds)
// with the overrides applied, as a handler would receive it, for calling
// handlers without a server.
func Delivery(t testing.TB, kind string, o sample.Options, overrides ...string) *hfhooks.Delivery {
	t.Helper()
	body, err := sample.JSON(kind, o, overrides...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := hfhooks.DecodePayload(body)
	if err != nil {
		t.Fatal(err)
	}
	return &hfhooks.Delivery{
		ID:         "test-delivery",
		Endpoint:   "test",
		Payload:    p,
		Body:       body,
		Header:     http.Header{"Content-Type": {"application/json"}},
		ReceivedAt: time.Now(),
	}
}

// Send POSTs a sample event of kind (see sample.Kinds) to url, with secret
// in X-Webhook-Secret when it is not empty, and returns the status code and
// the JSON response body.
func Send(t testing.TB, url, secret, kind string, o sample.Options, overrides ...string) (int, any) {
	t.Helper()
	body, err := sample.JSON(kind, o, overrides...)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Webhook-Secret", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response %d %q is not JSON: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, out
}
