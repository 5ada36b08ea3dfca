package main

import (
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/hooktest"
	"github.com/hfhooks/hfhooks/internal/sample"
)

func TestTriggerTraining(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", "")
	register()
	hs := httptest.NewServer(hfhooks.DefaultServer())
	defer hs.Close()
	url := hs.URL + "/webhooks/trigger_training"
	tests := []struct {
		kind, repoType string
		want           map[string]any
	}{
		{"repo.update", "dataset", map[string]any{"training": "started", "dataset": "acme/product-reviews"}},
		{"repo.update", "model", map[string]any{"training": "skipped"}},
		{"repo.create", "dataset", map[string]any{"training": "skipped"}},
	}
	for _, tt := range tests {
		code, got := hooktest.Send(t, url, "", tt.kind, sample.Options{RepoType: tt.repoType})
		if code != 200 || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s on a %s: %d %v, want 200 %v", tt.kind, tt.repoType, code, got, tt.want)
		}
	}
}
