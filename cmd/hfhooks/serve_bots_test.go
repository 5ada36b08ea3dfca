package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeConfigCheckTemplates checks that --check reports the template
// errors of comment and notify hooks with their lines, and shows neither
// the bot's token nor the path of a chat webhook's URL.
func TestServeConfigCheckTemplates(t *testing.T) {
	t.Setenv("HFHOOKS_TEST_BOT_TOKEN", "hf_SECRETTOKEN")
	dir := t.TempDir()
	file := writeConfig(t, dir, `
hooks:
  - name: welcome
    filter: {scopes: [discussion], actions: [create], kind: pr}
    comment:
      token: ${HFHOOKS_TEST_BOT_TOKEN}
      text: |
        Thanks for #{{.Discussion.Num}}!
        {{.Discussion.Autor.ID}}
  - name: to-slack
    notify:
      slack: https://hooks.slack.com/services/T0/B0/SECRETPATH
      text: "{{.Repo.Name}}: {{.Comment.Content | truncate}}"
  - name: to-chat
    notify:
      url: ftp://chat.example/SECRETPATH
      text: "{{.Repo.Name"
`)
	var out, errOut bytes.Buffer
	code := execute(context.Background(), []string{"serve", "--config", file, "--check"}, &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	if code != exitFailure || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q", code, out.String())
	}
	got := strings.ReplaceAll(errOut.String(), filepath.Dir(file), "DIR")
	if strings.Contains(got, "SECRET") {
		t.Errorf("the output shows a secret:\n%s", got)
	}
	golden(t, "serve-config-templates.golden", []byte(got))
}
