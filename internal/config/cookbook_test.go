package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks/action"
	"github.com/hfhooks/hfhooks/hubtest"
)

// cookbook is the file docs/config.md presents.
const cookbook = "../../examples/hooks.yaml"

// loadCookbook loads the cookbook with the variables it refers to set, and
// returns its hooks by name. vars set more variables, or other values.
func loadCookbook(t *testing.T, vars ...string) map[string]Hook {
	t.Helper()
	env := map[string]string{
		"WEBHOOK_SECRET": "file-secret", "PR_BOT_WEBHOOK_SECRET": "bot-secret",
		"BOT_TOKEN": "bot-token", "EVENTS_SECRET": "events-secret",
		"HF_BOT_TOKEN": "hf_bot", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/x",
		"DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/x",
	}
	for i := 0; i+1 < len(vars); i += 2 {
		env[vars[i]] = vars[i+1]
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := Load(cookbook)
	if err != nil {
		t.Fatal(err)
	}
	hooks := map[string]Hook{}
	for _, h := range cfg.Hooks {
		hooks[h.Name] = h
	}
	return hooks
}

// TestCookbookFilters sends sample events through each cookbook hook's
// filter.
func TestCookbookFilters(t *testing.T) {
	hooks := loadCookbook(t)
	const dataset, model = "dataset:my-org/reviews", "model:my-org/llm"
	tag := map[string]string{"updatedRefs": `[{"ref":"refs/tags/v1.2","oldSha":null,"newSha":"4f1c"}]`}
	tests := []struct {
		hook      string
		kind      string
		repo      string
		overrides map[string]string
		match     bool
	}{
		{hook: "retrain", kind: "repo.content", repo: dataset, match: true},
		{hook: "retrain", kind: "repo.content", repo: "dataset:other/reviews"},
		{hook: "retrain", kind: "repo.content", repo: model},
		{hook: "retrain", kind: "repo.content", repo: dataset, overrides: map[string]string{"updatedRefs.0.ref": "refs/heads/dev"}},
		{hook: "retrain", kind: "repo.content", repo: dataset, overrides: map[string]string{"updatedRefs.0.ref": "refs/convert/parquet"}},
		{hook: "retrain", kind: "repo.update", repo: dataset},

		{hook: "evaluate", kind: "repo.content", repo: model, overrides: tag, match: true},
		{hook: "evaluate", kind: "repo.content", repo: model},
		{hook: "evaluate", kind: "repo.content", repo: "model:my-org/scratch-1", overrides: tag},
		{hook: "evaluate", kind: "repo.content", repo: dataset, overrides: tag},

		{hook: "pr-bot", kind: "discussion.create", match: true},
		{hook: "pr-bot", kind: "discussion.create", overrides: map[string]string{"discussion.isPullRequest": "false"}},
		{hook: "pr-bot", kind: "discussion.comment.create"},
		{hook: "pr-bot", kind: "discussion.update"},

		{hook: "events", kind: "repo.content", match: true},
		{hook: "events", kind: "repo.content", repo: dataset, match: true},
		{hook: "events", kind: "repo.content", overrides: map[string]string{"updatedRefs.0.ref": "refs/convert/duckdb"}},
		{hook: "events", kind: "discussion.create"},
	}
	for _, tt := range tests {
		d, err := hubtest.NewDelivery(hubtest.Event{Kind: tt.kind, Repo: tt.repo, Set: tt.overrides})
		if err != nil {
			t.Fatal(err)
		}
		h, ok := hooks[tt.hook]
		if !ok {
			t.Fatalf("no hook %q in %s", tt.hook, cookbook)
		}
		if got, reason := h.Filter.Match(d.Payload); got != tt.match {
			t.Errorf("hook %s, %s on %s %v: match = %v (%s); want %v", tt.hook, tt.kind, d.Payload.Repo.Name, tt.overrides, got, reason, tt.match)
		}
	}
}

// TestCookbookSettings checks the secrets and targets the cookbook
// describes.
func TestCookbookSettings(t *testing.T) {
	hooks := loadCookbook(t)
	for name, secret := range map[string]string{"retrain": "file-secret", "evaluate": "file-secret", "pr-bot": "bot-secret", "events": "file-secret"} {
		if got := hooks[name].Secret; got != secret {
			t.Errorf("hook %s: secret %q; want %q", name, got, secret)
		}
	}
	if got := hooks["pr-bot"].Forward.Headers["Authorization"]; got != "Bearer bot-token" {
		t.Errorf("pr-bot: Authorization %q", got)
	}
	if got := hooks["events"].Forward.Secret; got != "events-secret" {
		t.Errorf("events: target secret %q", got)
	}
	if r := hooks["retrain"].Run; r.Secret != "" || r.Env["HF_HUB_ENABLE_HF_TRANSFER"] != "1" {
		t.Errorf("retrain: %+v", r)
	}
	for name, want := range map[string]struct {
		timeout     time.Duration
		concurrency int
	}{"retrain": {2 * time.Hour, 1}, "evaluate": {time.Hour, 2}, "pr-bot": {action.DefaultForwardTimeout, 0}} {
		if h := hooks[name]; h.Timeout != want.timeout || h.Concurrency != want.concurrency {
			t.Errorf("hook %s: timeout %v, concurrency %d; want %v, %d", name, h.Timeout, h.Concurrency, want.timeout, want.concurrency)
		}
	}
}

// TestCookbookRetrainRuns runs the retrain hook's script, with a stand-in
// python3 that records its arguments.
func TestCookbookRetrainRuns(t *testing.T) {
	hooks := loadCookbook(t)
	bin := t.TempDir()
	args := filepath.Join(bin, "args")
	fake := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$FAKE_PYTHON_ARGS\"\n"
	if err := os.WriteFile(filepath.Join(bin, "python3"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_PYTHON_ARGS", args)

	d, err := hubtest.NewDelivery(hubtest.Event{Kind: "repo.content", Repo: "dataset:my-org/reviews"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := hooks["retrain"].Handler(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	sha := d.Payload.Repo.HeadSha
	if got, want := v.(*action.RunResult).Output, "retraining on my-org/reviews at "+sha+"\n"; got != want {
		t.Errorf("output %q; want %q", got, want)
	}
	got, err := os.ReadFile(args)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join([]string{"train.py", "--dataset", "my-org/reviews", "--revision", sha}, "\n") + "\n"; string(got) != want {
		t.Errorf("python3 got arguments %q; want %q", got, want)
	}
}
