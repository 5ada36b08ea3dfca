package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/hfhooks/hfhooks"
)

// detailOf reads GET /api/deliveries/{id}.
func detailOf(t *testing.T, url, id string) (int, hfhooks.DeliveryDetail) {
	t.Helper()
	resp, err := http.Get(url + "/api/deliveries/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d hfhooks.DeliveryDetail
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, d
}

func TestGetShowsPayloadAndAttempts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		var runs atomic.Int32
		d := startDurable(t, openQueue(t, bc, WithMaxAttempts(3)), map[string]hfhooks.HandlerFunc{
			"flaky": func(context.Context, *hfhooks.Delivery) (any, error) {
				if n := runs.Add(1); n < 3 {
					return nil, fmt.Errorf("run %d: %w", n, printed("Traceback: out of memory"))
				}
				return printed("epoch 3: loss 0.12"), nil
			},
		})
		body := payload(t, "acme/flaky")
		a := send(t, d.url+"/webhooks/flaky", body, nil)
		waitFor(t, d.url, a.ID, hfhooks.StateSucceeded)

		code, got := detailOf(t, d.url, a.ID)
		if code != http.StatusOK || got.Delivery.ID != a.ID || got.Delivery.State != hfhooks.StateSucceeded {
			t.Fatalf("GET /api/deliveries/%s = %d %+v", a.ID, code, got.Delivery)
		}
		var sent, shown any
		_ = json.Unmarshal(body, &sent)
		if err := json.Unmarshal(got.Payload, &shown); err != nil || fmt.Sprint(sent) != fmt.Sprint(shown) {
			t.Errorf("payload = %s, want the body sent (%v)", got.Payload, err)
		}
		if len(got.Attempts) != 3 {
			t.Fatalf("attempts = %+v, want 3", got.Attempts)
		}
		for i, at := range got.Attempts[:2] {
			if at.Number != i+1 || at.State != hfhooks.StateFailed || at.Error != fmt.Sprintf("run %d: exited with code 1", i+1) || at.Ended.IsZero() {
				t.Errorf("attempt %d = %+v", i+1, at)
			}
		}
		last := got.Attempts[2]
		if last.Number != 3 || last.State != hfhooks.StateSucceeded || last.Output != "epoch 3: loss 0.12" || last.Duration <= 0 || last.Error != "" {
			t.Errorf("last attempt = %+v", last)
		}

		for _, id := range []string{"999999", "x"} {
			if code, _ := detailOf(t, d.url, id); code != http.StatusNotFound {
				t.Errorf("GET /api/deliveries/%s = %d, want 404", id, code)
			}
			if _, err := d.q.Get(context.Background(), id); !errors.Is(err, hfhooks.ErrDeliveryNotFound) {
				t.Errorf("Get(%s) = %v, want ErrDeliveryNotFound", id, err)
			}
		}
	})
}

func TestGetFailedLastAttempt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		d := startDurable(t, openQueue(t, bc, WithMaxAttempts(1)), map[string]hfhooks.HandlerFunc{
			"fails": func(context.Context, *hfhooks.Delivery) (any, error) { return nil, printed("Traceback") },
		})
		a := send(t, d.url+"/webhooks/fails", payload(t, "acme/fails"), nil)
		waitFor(t, d.url, a.ID, hfhooks.StateFailed)
		_, got := detailOf(t, d.url, a.ID)
		if len(got.Attempts) != 1 {
			t.Fatalf("attempts = %+v", got.Attempts)
		}
		if at := got.Attempts[0]; at.State != hfhooks.StateFailed || at.Error != "exited with code 1" || at.Output != "Traceback" || at.Duration <= 0 {
			t.Errorf("attempt = %+v", at)
		}
	})
}
