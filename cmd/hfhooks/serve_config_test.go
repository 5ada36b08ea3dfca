package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// writeConfig writes a hooks.yaml into dir and returns its path.
func writeConfig(t *testing.T, dir, yaml string) string {
	t.Helper()
	path := filepath.Join(dir, "hooks.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// trigger runs "hfhooks trigger args..." and returns its exit code and
// standard output.
func trigger(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := execute(context.Background(), append([]string{"trigger"}, args...), &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard})
	return code, out.String()
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func TestServeConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeConfig(t, dir, `
hooks:
  - name: retrain
    filter: {scopes: [repo.content], refs: [refs/heads/main]}
    run: {command: [sh, -c, "true"]}
  - name: bot
    forward: {url: "http://127.0.0.1:1/hook"}
`)
	var out, errOut bytes.Buffer
	code := execute(context.Background(), []string{"serve", "--config", good, "--check"}, &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	if code != exitOK || out.String() != good+" is valid: 2 hook(s): retrain, bot\n" {
		t.Errorf("valid file: exit %d, %q %q", code, out.String(), errOut.String())
	}

	bad := filepath.Join(t.TempDir(), "hooks.yaml")
	os.WriteFile(bad, []byte(`
hooks:
  - name: retrain
    filter: {refs: ["refs/[heads"]}
    run: {command: [no-such-program-hfhooks], timeout: 10x}
  - name: retrain
    forward: {url: "http://127.0.0.1:1/hook"}
    run: {command: [sh]}
`), 0o644)
	out.Reset()
	errOut.Reset()
	code = execute(context.Background(), []string{"serve", "--config", bad, "--check"}, &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	got := strings.ReplaceAll(errOut.String(), filepath.Dir(bad), "DIR")
	if code != exitFailure || out.Len() != 0 {
		t.Errorf("invalid file: exit %d, stdout %q", code, out.String())
	}
	golden(t, "serve-config-invalid.golden", []byte(got))

	out.Reset()
	if code := execute(context.Background(), []string{"serve", "--check"}, &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != exitUsage {
		t.Errorf("--check without --config: exit %d, want 2", code)
	}
}

func TestServeConfigEndToEnd(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)

	// The forward target records what it receives.
	var mu sync.Mutex
	var forwarded [][]byte
	var forwardedSecret string
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		forwarded = append(forwarded, b)
		forwardedSecret = r.Header.Get("X-Webhook-Secret")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer target.Close()

	writeConfig(t, dir, `
secret: file-secret
hooks:
  - name: retrain
    filter: {scopes: [repo.content], repoTypes: [dataset], refs: [refs/heads/main]}
    run:
      command: [sh, -c, 'echo "$WEBHOOK_REPO_ID $WEBHOOK_REPO_TYPE $WEBHOOK_SCOPE $WEBHOOK_ACTION $WEBHOOK_HEAD_SHA" >> runs.txt; cat > stdin.json; echo trained']
  - name: flaky
    run:
      command: [sh, -c, 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo "attempt $n"; [ "$n" -ge 2 ]']
  - name: bot
    secret: bot-secret
    filter: {scopes: [discussion], kind: pr}
    forward: {url: "`+target.URL+`/hook", secret: target-secret}
`)
	base, _, logs := startServe(t, "--config", "hooks.yaml", "--queue", "sqlite:"+filepath.Join(dir, "q.db"), "--retry-backoff", "10ms")

	// A dataset push to main runs the command, with the payload in its
	// environment and on its standard input.
	code, out := trigger(t, "repo.content", "--url", base+"/webhooks/retrain", "--secret", "file-secret", "--repo", "dataset:acme/reviews")
	if code != exitOK || !strings.Contains(out, "202") {
		t.Fatalf("dataset push: exit %d %s", code, out)
	}
	eventually(t, "the retrain command", func() bool { return strings.Contains(readFile("runs.txt"), "acme/reviews") })
	if got := readFile("runs.txt"); !regexp.MustCompile(`^acme/reviews dataset repo.content update [0-9a-f]{40}\n$`).MatchString(got) {
		t.Errorf("command environment: %q", got)
	}
	eventually(t, "the payload on stdin", func() bool { return strings.Contains(readFile("stdin.json"), `"acme/reviews"`) })

	// What the filter leaves out is answered 200 ignored and not run.
	for _, args := range [][]string{
		{"repo.content", "--repo", "model:acme/bert"},
		{"repo.content", "--repo", "dataset:acme/reviews", "--set", "updatedRefs.0.ref=refs/heads/dev"},
		{"discussion.create", "--repo", "dataset:acme/reviews"},
	} {
		code, out := trigger(t, append(args, "--url", base+"/webhooks/retrain", "--secret", "file-secret")...)
		if code != exitOK || !strings.Contains(out, "200 OK") || !strings.Contains(out, `"status":"ignored"`) {
			t.Errorf("%v: exit %d %s", args, code, out)
		}
	}

	// A failing command is retried through the queue, then succeeds; its
	// output is kept with the delivery.
	if code, out := trigger(t, "repo.update", "--url", base+"/webhooks/flaky", "--secret", "file-secret"); code != exitOK {
		t.Fatalf("flaky: exit %d %s", code, out)
	}
	eventually(t, "the flaky hook to succeed", func() bool {
		resp, err := http.Get(base + "/api/deliveries?state=succeeded")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `"endpoint":"flaky"`) && strings.Contains(string(b), `"attempts":2`) && strings.Contains(string(b), `"output":"attempt 2\n"`)
	})

	// The hook's own secret replaces the file's; forward sends the body byte
	// for byte, with the target's secret.
	if code, out := trigger(t, "discussion.create", "--url", base+"/webhooks/bot", "--secret", "file-secret"); code != exitFailure || !strings.Contains(out, "403") {
		t.Errorf("bot with the file's secret: exit %d %s", code, out)
	}
	var sent bytes.Buffer
	execute(context.Background(), []string{"trigger", "discussion.create", "--dry-run"}, &ioStreams{In: strings.NewReader(""), Out: &sent, ErrOut: io.Discard})
	req, _ := http.NewRequest("POST", base+"/webhooks/bot", bytes.NewReader(sent.Bytes()))
	req.Header.Set("X-Webhook-Secret", "bot-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("bot: %d", resp.StatusCode)
	}
	eventually(t, "the forward", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(forwarded) == 1
	})
	mu.Lock()
	if sha256.Sum256(forwarded[0]) != sha256.Sum256(sent.Bytes()) || forwardedSecret != "target-secret" {
		t.Errorf("forwarded %d bytes with secret %q; want the body byte for byte and the target's secret", len(forwarded[0]), forwardedSecret)
	}
	mu.Unlock()
	if strings.Contains(logs.String(), "file-secret") || strings.Contains(logs.String(), "bot-secret") {
		t.Error("a secret appears in the logs")
	}

	// The page's table of endpoints shows each hook's filter and action:
	// a forward by its host only, since its path may be a secret.
	resp, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, want := range []string{
		`<td class="filter" data-label="Acts on">scopes: repo.content; repoTypes: dataset; refs: refs/heads/main</td>`,
		`<code>run: sh -c echo &#34;$WEBHOOK_REPO_ID`,
		`<code>forward: ` + target.URL + `/xxxxx</code>`,
		`<td class="filter" data-label="Acts on">every delivery</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(page, target.URL+"/hook") {
		t.Error("the page shows the forward target's path")
	}
}

// TestServeConfigReload runs "hfhooks serve --config" as a process and
// sends it SIGHUP: the file is reloaded, a delivery in flight finishes with
// the hooks it started on, and a file that fails validation is refused.
func TestServeConfigReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	path := writeConfig(t, dir, `
hooks:
  - name: slow
    run: {command: [sh, -c, 'touch started; while [ ! -e release ]; do sleep 0.02; done; echo done > finished']}
`)
	p := startProc(t, "--config", path, "--queue", "none")
	reload := func(what string, logged func(string) bool) {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		eventually(t, what, func() bool { return logged(p.stderr.String()) })
	}

	// A delivery in flight when the config is reloaded finishes.
	answered := make(chan int, 1)
	go func() {
		code, _ := trigger(t, "repo.update", "--url", p.url+"/webhooks/slow", "--secret", "s")
		answered <- code
	}()
	eventually(t, "the slow command to start", func() bool { _, err := os.Stat(at("started")); return err == nil })

	writeConfig(t, dir, `
hooks:
  - name: fresh
    run: {command: [sh, -c, 'echo fresh >> fresh.txt']}
`)
	reload("the reload", func(logs string) bool { return strings.Contains(logs, "msg=reloaded") })
	os.WriteFile(at("release"), nil, 0o644)
	if code := <-answered; code != exitOK || readFile(at("finished")) != "done\n" {
		t.Errorf("in-flight delivery: exit %d, finished %q", code, readFile(at("finished")))
	}
	if code, out := trigger(t, "repo.update", "--url", p.url+"/webhooks/fresh", "--secret", "s"); code != exitOK || readFile(at("fresh.txt")) != "fresh\n" {
		t.Errorf("new hook: exit %d %s", code, out)
	}
	if code, _ := trigger(t, "repo.update", "--url", p.url+"/webhooks/slow", "--secret", "s"); code != exitFailure {
		t.Errorf("removed hook still served")
	}

	// A file that fails validation is refused; the hooks in service stay.
	writeConfig(t, dir, "hooks:\n  - name: fresh\n")
	reload("the refusal", func(logs string) bool { return strings.Contains(logs, "reload refused") })
	if code, out := trigger(t, "repo.update", "--url", p.url+"/webhooks/fresh", "--secret", "s"); code != exitOK || readFile(at("fresh.txt")) != "fresh\nfresh\n" {
		t.Errorf("after a refused reload: exit %d %s", code, out)
	}

	// The refusal's log line shows no query value of a URL in the file.
	writeConfig(t, dir, "hooks:\n  - name: fresh\n    forward: {url: 'ftp://h/x?token=SEKRET'}\n")
	reload("the second refusal", func(logs string) bool { return strings.Count(logs, "reload refused") == 2 })
	if l := p.stderr.String(); strings.Contains(l, "SEKRET") || !strings.Contains(l, "token=xxxxx") {
		t.Errorf("logs:\n%s", l)
	}
	select {
	case <-p.exited:
		t.Fatalf("SIGHUP stopped the process:\n%s", p.stderr)
	default:
	}
}

// TestServeConfigOnGiveUp: a hook that gives up runs its onGiveUp once,
// with the delivery's environment, its endpoint, attempts and last error;
// a hook without one uses the file's, a forward of the envelope.
func TestServeConfigOnGiveUp(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	alerts := make(chan []byte, 4)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		alerts <- b
	}))
	defer target.Close()
	writeConfig(t, dir, `
secret: file-secret
onGiveUp:
  forward: {url: "`+target.URL+`/alerts"}
hooks:
  - name: train
    run: {command: [sh, -c, 'echo "out of memory"; exit 3']}
    onGiveUp:
      run: {command: [sh, -c, 'echo "$WEBHOOK_ENDPOINT $WEBHOOK_ATTEMPTS $WEBHOOK_ERROR $WEBHOOK_REPO_ID" >> gave-up.txt']}
  - name: mirror
    forward: {url: "http://127.0.0.1:1/down"}
`)
	base, _, _ := startServe(t, "--config", "hooks.yaml", "--queue", "sqlite:"+filepath.Join(dir, "q.db"), "--max-attempts", "2", "--retry-backoff", "10ms")
	for _, hook := range []string{"train", "mirror"} {
		if code, out := trigger(t, "repo.content", "--url", base+"/webhooks/"+hook, "--secret", "file-secret", "--repo", "model:acme/bert"); code != exitOK {
			t.Fatalf("%s: exit %d %s", hook, code, out)
		}
	}
	eventually(t, "the train hook's onGiveUp", func() bool { return readFile("gave-up.txt") != "" })
	if got := readFile("gave-up.txt"); got != "train 2 sh: exited with code 3 acme/bert\n" {
		t.Errorf("onGiveUp run wrote %q", got)
	}
	select {
	case b := <-alerts:
		var env struct {
			Endpoint, DeliveryID, Error string
			Attempts                    int
			Payload                     struct{ Repo struct{ Name string } }
		}
		if err := json.Unmarshal(b, &env); err != nil || env.Endpoint != "mirror" || env.Attempts != 2 || env.DeliveryID == "" ||
			!strings.Contains(env.Error, "127.0.0.1:1") || env.Payload.Repo.Name != "acme/bert" {
			t.Errorf("envelope %s (%v)", b, err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the file's onGiveUp did not forward")
	}
}
