package config

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/hfhooks/hfhooks"
)

// TestGiveUpDispatch: Config.GiveUp runs the onGiveUp of the delivery's
// hook, else the file's, with what the action passes on.
func TestGiveUpDispatch(t *testing.T) {
	alerts := make(chan map[string]any, 3)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env map[string]any
		if err := json.NewDecoder(r.Body).Decode(&env); err != nil {
			t.Error(err)
		}
		alerts <- env
	}))
	defer target.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "hooks.yaml")
	yaml := `onGiveUp:
  forward: {url: ` + target.URL + `}
hooks:
  - name: retrain
    run: {command: [sh, -c, 'echo "$WEBHOOK_ENDPOINT $WEBHOOK_ATTEMPTS $WEBHOOK_ERROR" > gave-up']}
    onGiveUp:
      run: {command: [sh, -c, 'echo "$WEBHOOK_ENDPOINT $WEBHOOK_ATTEMPTS $WEBHOOK_ERROR" > gave-up']}
  - name: mirror
    forward: {url: http://127.0.0.1:1/}
  - name: chat
    forward: {url: http://127.0.0.1:1/}
    onGiveUp:
      notify: {url: "` + target.URL + `/chat", text: "{{.Endpoint}} gave up on {{.Repo.Name}} after {{.Attempts}} attempts: {{.Error}}"}
`
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../../testdata/payloads/repo-content-updated-refs.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := hfhooks.DecodePayload(body)
	if err != nil {
		t.Fatal(err)
	}
	giveUp := func(endpoint string) {
		t.Helper()
		d := &hfhooks.Delivery{ID: "7", Endpoint: endpoint, Payload: p, Body: body}
		if err := cfg.GiveUp(context.Background(), &hfhooks.GiveUp{Delivery: d, Attempts: 3, Error: "exit 1"}); err != nil {
			t.Fatal(err)
		}
	}
	giveUp("retrain")
	if b, err := os.ReadFile(filepath.Join(dir, "gave-up")); err != nil || string(b) != "retrain 3 exit 1\n" {
		t.Errorf("the hook's own onGiveUp wrote %q, %v", b, err)
	}
	for _, endpoint := range []string{"mirror", "removed"} {
		giveUp(endpoint)
		if env := <-alerts; env["endpoint"] != endpoint || env["deliveryId"] != "7" || env["attempts"] != 3.0 || env["error"] != "exit 1" {
			t.Errorf("the file's onGiveUp posted %v for %s", env, endpoint)
		}
	}
	giveUp("chat")
	if msg := <-alerts; msg["text"] != "chat gave up on "+p.Repo.Name+" after 3 attempts: exit 1" {
		t.Errorf("the hook's onGiveUp notify posted %v", msg)
	}
	if len(alerts) != 0 {
		t.Errorf("%d more alerts", len(alerts))
	}
}
