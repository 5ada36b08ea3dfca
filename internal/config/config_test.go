package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/action"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// testEnv sets the variables the test files refer to.
func testEnv(t *testing.T) {
	t.Setenv("HFHOOKS_TEST_TOKEN", "tok")
	t.Setenv("HF_TOKEN_PATH", filepath.Join(t.TempDir(), "no-token")) // comment's token: none but the file's
	for _, name := range []string{"HFHOOKS_TEST_UNSET", "HFHOOKS_TEST_UNSET_TOO", "HF_TOKEN", "HF_ENDPOINT"} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
}

// reply is what describe shows of a comment action: its template's text,
// and the client without its token.
type reply struct {
	Text, Status, Client string
}

func describeReply(r *action.Reply) *reply {
	if r == nil {
		return nil
	}
	return &reply{Text: templateText(r.Text), Status: string(r.Status), Client: r.Client.String()}
}

// message is what describe shows of a notify action.
type message struct {
	Platform, URL, Text string
	Timeout             time.Duration
}

func describeMessage(m *action.Message) *message {
	if m == nil {
		return nil
	}
	return &message{Platform: string(m.Platform), URL: m.URL, Text: templateText(m.Text), Timeout: m.Timeout}
}

// templateText is the text a template was parsed from.
func templateText(t *template.Template) string {
	if t == nil {
		return ""
	}
	return t.Root.String()
}

// describe renders what Load returned: every error, one a line, or the
// config as JSON, with the absolute directories made relative.
func describe(t *testing.T, cfg *Config, err error) []byte {
	t.Helper()
	if err != nil {
		return []byte(err.Error() + "\n")
	}
	wd, werr := os.Getwd()
	if werr != nil {
		t.Fatal(werr)
	}
	type hook struct {
		Name        string
		Secret      string
		Line        int
		Filter      hfhooks.Filter
		Run         *action.Command `json:",omitempty"`
		Forward     *action.Target  `json:",omitempty"`
		Comment     *reply          `json:",omitempty"`
		Notify      *message        `json:",omitempty"`
		Timeout     time.Duration
		Concurrency int
		OnGiveUp    *giveUp `json:",omitempty"`
	}
	out := struct {
		Secret      string
		Allow       []string `json:",omitempty"`
		DedupWindow time.Duration
		OnGiveUp    *giveUp `json:",omitempty"`
		Hooks       []hook
	}{Secret: cfg.Secret, Allow: cfg.Allow, DedupWindow: cfg.DedupWindow, OnGiveUp: giveUpAction(t, wd, cfg.OnGiveUp)}
	for _, h := range cfg.Hooks {
		if h.Handler == nil {
			t.Errorf("hook %q has no handler", h.Name)
		}
		h.Run = relative(t, wd, h.Run)
		out.Hooks = append(out.Hooks, hook{h.Name, h.Secret, h.Line, h.Filter, h.Run, h.Forward, describeReply(h.Comment), describeMessage(h.Notify),
			h.Timeout, h.Concurrency, giveUpAction(t, wd, h.OnGiveUp)})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// relative returns run with its directory relative to wd, as <wd>/DIR.
func relative(t *testing.T, wd string, run *action.Command) *action.Command {
	if run == nil {
		return nil
	}
	r := *run
	rel, err := filepath.Rel(wd, r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Dir = "<wd>/" + filepath.ToSlash(rel)
	return &r
}

// giveUpAction returns what describe shows of g, with relative directories,
// checking that g has a handler.
func giveUpAction(t *testing.T, wd string, g *GiveUpAction) *giveUp {
	if g == nil {
		return nil
	}
	if g.Handler == nil {
		t.Error("an onGiveUp has no handler")
	}
	return &giveUp{Run: relative(t, wd, g.Run), Forward: g.Forward, Notify: describeMessage(g.Notify)}
}

// giveUp is what describe shows of an onGiveUp.
type giveUp struct {
	Run     *action.Command `json:",omitempty"`
	Forward *action.Target  `json:",omitempty"`
	Notify  *message        `json:",omitempty"`
}

// TestGolden loads each testdata/*.yaml and compares every error message,
// or the config it maps onto, with testdata/*.golden. Run with -update to
// rewrite them.
func TestGolden(t *testing.T) {
	testEnv(t)
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			cfg, err := Load(file)
			got := describe(t, cfg, err)
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Load(%s):\n%s\nwant:\n%s", file, got, want)
			}
		})
	}
}

func TestErrorsAreTyped(t *testing.T) {
	testEnv(t)
	_, err := Load("testdata/run.yaml")
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("Load: %v; want joined errors", err)
	}
	for _, err := range joined.Unwrap() {
		var e *Error
		if !errors.As(err, &e) || e.Line == 0 || e.Hook == "" {
			t.Errorf("%v: want an *Error with a line and a hook", err)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-file.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load: %v; want os.ErrNotExist", err)
	}
}

func TestExpand(t *testing.T) {
	testEnv(t)
	tests := []struct{ in, want, err string }{
		{in: "plain $HOME $ {x}", want: "plain $HOME $ {x}"},
		{in: "a${HFHOOKS_TEST_TOKEN}b${HFHOOKS_TEST_TOKEN}", want: "atokbtok"},
		{in: "$${HFHOOKS_TEST_TOKEN}", want: "${HFHOOKS_TEST_TOKEN}"},
		{in: "$$$${X}", want: "$$${X}"},
		{in: "${HFHOOKS_TEST_UNSET}", err: "environment variable HFHOOKS_TEST_UNSET is not set, or empty"},
		{in: "${1BAD}", want: "${1BAD}"},
	}
	for _, tt := range tests {
		got, err := expand(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("expand(%q) error = %v; want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
