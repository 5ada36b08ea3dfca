package main

import (
	"testing"

	"github.com/hfhooks/hfhooks/action"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/internal/config"
)

func TestDescribeHook(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		hook config.Hook
		want string
	}{
		{config.Hook{Action: config.Action{Run: &action.Command{Args: []string{"./retrain.sh", "--fast"}}}}, "run: ./retrain.sh --fast"},
		{config.Hook{Action: config.Action{Forward: &action.Target{URL: "https://user:pw@ci.example.com/hooks/abc?token=t"}}}, "forward: https://user:xxxxx@ci.example.com/xxxxx"},
		{config.Hook{Action: config.Action{Comment: &action.Reply{}}}, "comment on the discussion"},
		{config.Hook{Action: config.Action{Comment: &action.Reply{Status: hub.StatusClosed}}}, "comment on the discussion, and set it closed"},
		{config.Hook{Action: config.Action{Notify: &action.Message{Platform: action.Slack, URL: "https://hooks.slack.com/services/T0/B0/secret"}}}, "notify: https://hooks.slack.com/xxxxx (slack)"},
	} {
		if got := describeHook(tt.hook); got != tt.want {
			t.Errorf("describeHook = %q, want %q", got, tt.want)
		}
	}
}
