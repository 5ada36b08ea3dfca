package docs

import (
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The addresses the docs use for the emulator and the receiver. The test
// gives each run free ports instead, so that it can run beside anything
// else.
const (
	docHubAddr   = "127.0.0.1:9000"
	docServeAddr = "127.0.0.1:7860"
)

// prelude starts every script: it stops on the first failure, stops the
// servers the script started in the background when it ends, and defines
// hfhooks_wait, which waits for a server to accept connections.
const prelude = `set -euo pipefail
trap 'status=$?; kill $(jobs -p) 2>/dev/null || true; wait; exit $status' EXIT
hfhooks_wait() {
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing listens on $1" >&2
	return 1
}
`

// background matches a command run with &, and an optional comment.
var background = regexp.MustCompile(`^(.*\S)\s+&(\s+#.*)?$`)

// TestOfflineShellSamples runs the sh blocks marked <!-- offline --> against
// a hfhooks built from this checkout, one script per Markdown file, in a
// directory of its own: each must exit 0. Servers a sample starts with &
// are waited for before the next line, and stopped at the end.
func TestOfflineShellSamples(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	scripts := map[string][]block{}
	var files []string
	for _, b := range blocks(t) {
		if b.marker != "offline" {
			continue
		}
		if b.lang != "sh" {
			t.Errorf("%s: <!-- offline --> above a %q block: only sh blocks run", b, b.lang)
			continue
		}
		if scripts[b.file] == nil {
			files = append(files, b.file)
		}
		scripts[b.file] = append(scripts[b.file], b)
	}
	if len(files) == 0 {
		t.Fatal("no offline sample found")
	}

	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin, "github.com/hfhooks/hfhooks/cmd/hfhooks")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building hfhooks: %v\n%s", err, out)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			if out, err := runScript(t, bin, scripts[file]); err != nil {
				t.Errorf("%v\n%s", err, out)
			}
		})
	}
}

// runScript runs the blocks of one file as one bash script, and returns
// the script and its output.
func runScript(t *testing.T, bin string, blocks []block) (string, error) {
	hubAddr, serveAddr := freeAddr(t), freeAddr(t)
	var script strings.Builder
	script.WriteString(prelude)
	for _, b := range blocks {
		script.WriteString("# " + b.String() + "\n")
		for line := range strings.SplitSeq(strings.TrimSuffix(b.text, "\n"), "\n") {
			line, wait := localize(line, hubAddr, serveAddr)
			script.WriteString(line + "\n")
			if wait != "" {
				script.WriteString("hfhooks_wait " + wait + "\n")
			}
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = t.TempDir()
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(cleanEnv(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+cmd.Dir)
	out, err := cmd.CombinedOutput()
	return "script:\n" + script.String() + "output:\n" + string(out), err
}

// localize moves a line of a sample to the test's addresses: the docs'
// addresses are replaced, and "hfhooks hub" and "hfhooks serve" get an
// --addr when they have none. For a server started with &, wait is the
// address to wait for.
func localize(line, hubAddr, serveAddr string) (_ string, wait string) {
	line = strings.NewReplacer(docHubAddr, hubAddr, docServeAddr, serveAddr).Replace(line)
	addr := ""
	switch {
	case strings.HasPrefix(line, "hfhooks hub ") && !strings.HasPrefix(line, "hfhooks hub emit"), line == "hfhooks hub":
		addr = hubAddr
	case strings.HasPrefix(line, "hfhooks serve"):
		addr = serveAddr
	}
	if addr != "" && !strings.Contains(line, "--addr") {
		cmd, rest, _ := strings.Cut(line, " ")
		sub, rest, _ := strings.Cut(rest, " ")
		line = strings.TrimSpace(cmd + " " + sub + " --addr " + addr + " " + rest)
	}
	if background.MatchString(line) {
		wait = addr
	}
	return line, wait
}

// freeAddr returns a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cleanEnv is the test's environment without what would point the samples
// elsewhere: the Hub, a token, a secret, a Space.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "HF_") || strings.HasPrefix(name, "HFHOOKS_") || strings.HasPrefix(name, "SPACE_") ||
			strings.HasPrefix(name, "OAUTH_") || name == "WEBHOOK_SECRET" || name == "OPENID_PROVIDER_URL" || name == "PATH" || name == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// TestScriptStatus checks that a script fails when a command of it fails,
// with or without a server in the background, and succeeds otherwise.
func TestScriptStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		ok   bool
	}{
		{"true\n", true},
		{"false\ntrue\n", false},
		{"sleep 10 &\ntrue\n", true},
		{"sleep 10 &\nfalse\n", false},
	}
	for _, tt := range tests {
		_, err := runScript(t, t.TempDir(), []block{{file: "test.md", line: 1, text: tt.text}})
		if (err == nil) != tt.ok {
			t.Errorf("%q: error %v, want ok %v", tt.text, err, tt.ok)
		}
	}
}

// TestLocalize checks how sample lines move to the test's addresses.
func TestLocalize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want, wait string }{
		{"hfhooks hub --token hf_me &   # on 127.0.0.1:9000", "hfhooks hub --addr H --token hf_me &   # on H", "H"},
		{"hfhooks serve --secret s &", "hfhooks serve --addr S --secret s &", "S"},
		{"hfhooks serve --config hooks.yaml --check", "hfhooks serve --addr S --config hooks.yaml --check", ""},
		{"hfhooks hub emit repo.content --repo model:me/m", "hfhooks hub emit repo.content --repo model:me/m", ""},
		{"hfhooks hub", "hfhooks hub --addr H", ""},
		{"curl -s http://127.0.0.1:7860/api/deliveries", "curl -s http://S/api/deliveries", ""},
		{"hfhooks serve --addr 127.0.0.1:7860 &", "hfhooks serve --addr S &", "S"},
	}
	for _, tt := range tests {
		got, wait := localize(tt.in, "H", "S")
		if got != tt.want || wait != tt.wait {
			t.Errorf("localize(%q) = %q, %q; want %q, %q", tt.in, got, wait, tt.want, tt.wait)
		}
	}
}
