package main

import (
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/hooktest"
	"github.com/hfhooks/hfhooks/internal/sample"
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
		endpoint, repoType string
		want               map[string]any
	}{
		{"trigger_training", "dataset", map[string]any{"training": "started", "repo": "acme/product-reviews"}},
		{"trigger_training", "model", map[string]any{"training": "skipped"}},
		{"trigger_evaluation", "model", map[string]any{"evaluation": "started", "repo": "acme/sentiment-model"}},
		{"trigger_evaluation", "space", map[string]any{"evaluation": "skipped"}},
	}
	for _, tt := range tests {
		code, got := hooktest.Send(t, hs.URL+"/webhooks/"+tt.endpoint, "", "repo.update", sample.Options{RepoType: tt.repoType})
		if code != 200 || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s with a %s: %d %v, want 200 %v", tt.endpoint, tt.repoType, code, got, tt.want)
		}
	}
}
