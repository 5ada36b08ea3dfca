package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra/doc"
)

// cliDocs is the directory of the command-line reference.
const cliDocs = "../../docs/cli"

// TestCLIReference checks that docs/cli, the command-line reference, is
// what the commands' own help generates (cobra/doc), so that it cannot go
// stale. After changing a command, rewrite it with go generate
// ./cmd/hfhooks (or go test ./cmd/hfhooks -run TestCLIReference -update).
func TestCLIReference(t *testing.T) {
	// Flag defaults must not depend on this machine's environment.
	for _, name := range []string{"HF_ENDPOINT", "HF_TOKEN", "WEBHOOK_SECRET", "SPACE_ID", "SPACE_HOST", "HFHOOKS_UI_TOKEN", "HFHOOKS_RELAY_TOKEN"} {
		t.Setenv(name, "")
	}
	root := newRootCmd(&ioStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true
	dir := t.TempDir()
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		t.Fatal(err)
	}
	generated, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		old, _ := filepath.Glob(filepath.Join(cliDocs, "*.md"))
		for _, path := range old {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}
	}
	var names []string
	for _, path := range generated {
		name := filepath.Base(path)
		names = append(names, name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(filepath.Join(cliDocs, name), got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(filepath.Join(cliDocs, name))
		if err != nil {
			t.Errorf("docs/cli/%s: %v (run go generate ./cmd/hfhooks)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("docs/cli/%s is stale: run go generate ./cmd/hfhooks\ngot:\n%s", name, got)
		}
	}
	committed, err := filepath.Glob(filepath.Join(cliDocs, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range committed {
		if !slices.Contains(names, filepath.Base(path)) {
			t.Errorf("docs/cli/%s documents no command: run go generate ./cmd/hfhooks", filepath.Base(path))
		}
	}
}
