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

func TestTwoEndpoints(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", "")
	register()
	srv := hfhooks.DefaultServer()
	if got := srv.Endpoints(); !reflect.DeepEqual(got, []string{"trigger_evaluation", "trigger_training"}) {
		t.Fatalf("endpoints = %v", got)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tests := []struct {
		endpoint, repo string
		want           map[string]string
	}{
		{"trigger_training", "dataset:acme/reviews", map[string]string{"training": "started", "repo": "acme/reviews"}},
		{"trigger_training", "model:acme/llm", map[string]string{"training": "skipped"}},
		{"trigger_evaluation", "model:acme/llm", map[string]string{"evaluation": "started", "repo": "acme/llm"}},
		{"trigger_evaluation", "space:acme/demo", map[string]string{"evaluation": "skipped"}},
	}
	for _, tt := range tests {
		resp, err := hubtest.Send(context.Background(), hs.URL+"/webhooks/"+tt.endpoint, "", hubtest.Event{Kind: "repo.update", Repo: tt.repo})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s with %s: %d %v (%v), want 200 %v", tt.endpoint, tt.repo, resp.StatusCode, got, err, tt.want)
		}
	}
}
