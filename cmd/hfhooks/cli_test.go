package main

import (
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
)

// TestConventions runs command lines a user of hf or gh may type: unknown
// subcommands, stray arguments, flag typos and URLs without a scheme exit 2
// with a message that says what was expected, for every command group.
func TestConventions(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"root_unknown", []string{"serv"}},
		{"root_alone", []string{}},
		{"help_unknown", []string{"help", "webhooks", "lst"}},
		{"webhooks_unknown", []string{"webhooks", "remove", "654bbbc16f2ec14d77f109cc"}},
		{"hub_unknown", []string{"hub", "emti", "repo.update"}},
		{"completion_unknown", []string{"completion", "bsh"}},
		{"version_extra", []string{"version", "extra"}},
		{"serve_flag_typo", []string{"serve", "--adr", ":8080"}},
		{"trigger_flag_typo", []string{"trigger", "repo.update", "--secert", "s"}},
		{"trigger_url", []string{"trigger", "repo.update", "--url", "localhost:8000/webhooks/inbox"}},
		{"webhooks_endpoint", []string{"webhooks", "ls", "--endpoint", "127.0.0.1:9000", "--token", "hf_x"}},
		{"emit_hub", []string{"hub", "emit", "repo.update", "--repo", "model:a/b", "--hub", "127.0.0.1:9000", "--token", "hf_x"}},
		{"complete_kind", []string{"__complete", "trigger", "repo.c"}},
		{"complete_format", []string{"__complete", "webhooks", "ls", "--format", ""}},
		{"serve_relay", []string{"serve", "--queue", "none", "--relay", "127.0.0.1:7880"}},
		{"listen_relay", []string{"listen", "--relay", "127.0.0.1:7880", "--forward-to", "http://127.0.0.1:7860/webhooks/inbox"}},
		{"listen_forward_to", []string{"listen", "--relay", "https://r.example", "--forward-to", "127.0.0.1:7860"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			code, out, errOut := run(t, tt.args...)
			if tt.name == "root_alone" {
				out = out[:strings.Index(out, "Available Commands:")] // the rest is the command list
			}
			golden(t, "cli/"+tt.name+".golden", fmt.Appendf(nil, "$ hfhooks %s\nexit: %d\n--- stdout\n%s--- stderr\n%s", strings.Join(tt.args, " "), code, out, errOut))
		})
	}
}

// TestVersion: "hfhooks version" and "hfhooks --version" print the same
// line, with the version of the build information when no -X set one.
func TestVersion(t *testing.T) {
	want := "(devel)"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		want = info.Main.Version
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := run(t, args...)
		if code != exitOK || out != "hfhooks version "+want+"\n" || errOut != "" {
			t.Errorf("%v: exit %d, %q %q; want hfhooks version %s", args, code, out, errOut, want)
		}
	}
}
