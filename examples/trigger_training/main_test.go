package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hubtest"
)

// TestTriggerTraining calls the handler with the deliveries the Hub would
// send.
func TestTriggerTraining(t *testing.T) {
	tests := []struct {
		kind, repo string
		want       map[string]string
	}{
		{"repo.update", "dataset:acme/reviews", map[string]string{"training": "started", "dataset": "acme/reviews"}},
		{"repo.update", "model:acme/llm", map[string]string{"training": "skipped"}},
		{"repo.create", "dataset:acme/reviews", map[string]string{"training": "skipped"}},
	}
	for _, tt := range tests {
		d, err := hubtest.NewDelivery(hubtest.Event{Kind: tt.kind, Repo: tt.repo})
		if err != nil {
			t.Fatal(err)
		}
		got, err := triggerTraining(context.Background(), d)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s on %s: %v, %v; want %v", tt.kind, tt.repo, got, err, tt.want)
		}
	}
}

// TestEndpoint sends an event to the endpoint on the default server.
func TestEndpoint(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", "")
	register()
	hs := httptest.NewServer(hfhooks.DefaultServer())
	defer hs.Close()
	resp, err := hubtest.Send(context.Background(), hs.URL+"/webhooks/trigger_training", "", hubtest.Event{Kind: "repo.update", Repo: "dataset:acme/reviews"})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 || got["training"] != "started" {
		t.Errorf("POST /webhooks/trigger_training: %d %v (%v), want 200 and training started", resp.StatusCode, got, err)
	}
}
