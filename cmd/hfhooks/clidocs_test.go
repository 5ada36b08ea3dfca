package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra/doc"

	goldenfile "github.com/hfhooks/hfhooks/internal/golden"
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
	var names []string
	for _, path := range generated {
		name := filepath.Base(path)
		names = append(names, name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		goldenfile.CheckFile(t, filepath.Join(cliDocs, name), got)
	}
	committed, err := filepath.Glob(filepath.Join(cliDocs, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range committed {
		switch {
		case slices.Contains(names, filepath.Base(path)):
		case goldenfile.Updating():
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		default:
			t.Errorf("docs/cli/%s documents no command: run go generate ./cmd/hfhooks", filepath.Base(path))
		}
	}
}
