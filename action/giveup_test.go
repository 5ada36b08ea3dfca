package action

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks"
)

// giveUp returns a give-up of a delivery of a fixture.
func giveUp(t *testing.T) *hfhooks.GiveUp {
	t.Helper()
	body, err := os.ReadFile("../testdata/payloads/repo-content-updated-refs.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := hfhooks.DecodePayload(body)
	if err != nil {
		t.Fatal(err)
	}
	d := &hfhooks.Delivery{ID: "42", Endpoint: "retrain", Payload: p, Body: body}
	return &hfhooks.GiveUp{Delivery: d, Attempts: 10, Error: "exited with code 3"}
}

func TestRunOnGiveUp(t *testing.T) {
	dir := t.TempDir()
	g := giveUp(t)
	vars := []string{"WEBHOOK_ENDPOINT", "WEBHOOK_ATTEMPTS", "WEBHOOK_ERROR", "WEBHOOK_DELIVERY_ID", "WEBHOOK_REPO_ID", "WEBHOOK_PAYLOAD"}
	script := `cat > stdin; for v in "$@"; do eval "printf %s \"\${$v-<unset>}\"" > "$v"; done`
	cmd := Command{Args: append([]string{"sh", "-c", script, "sh"}, vars...), Dir: dir}
	if err := RunOnGiveUp(cmd)(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"WEBHOOK_ENDPOINT":    "retrain",
		"WEBHOOK_ATTEMPTS":    "10",
		"WEBHOOK_ERROR":       "exited with code 3",
		"WEBHOOK_DELIVERY_ID": "42",
		"WEBHOOK_REPO_ID":     g.Delivery.Payload.Repo.Name,
		"WEBHOOK_PAYLOAD":     string(g.Delivery.Body),
		"stdin":               string(g.Delivery.Body),
	}
	for name, w := range want {
		if got := readFile(t, filepath.Join(dir, name)); got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
	if err := RunOnGiveUp(sh("exit 4"))(context.Background(), g); err == nil || !strings.Contains(err.Error(), "exited with code 4") {
		t.Errorf("a failing command: err = %v", err)
	}
}

// TestForwardOnGiveUp: the target gets the envelope, byte for byte as in
// testdata/giveup-envelope.json, with the target's secret.
func TestForwardOnGiveUp(t *testing.T) {
	g := giveUp(t)
	g.Delivery.Body = []byte(`{"event":{"action":"update","scope":"repo.content"}, "repo":{"name":"acme/model"}}`)
	var body []byte
	var header http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		header = r.Header
	}))
	defer srv.Close()
	if err := ForwardOnGiveUp(Target{URL: srv.URL, Secret: "target-secret"})(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "giveup-envelope.json")
	if *update {
		if err := os.WriteFile(golden, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, want) {
		t.Errorf("envelope:\n%s\nwant:\n%s", body, want)
	}
	if header.Get(hfhooks.SecretHeader) != "target-secret" || header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", header)
	}

	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer failing.Close()
	if err := ForwardOnGiveUp(Target{URL: failing.URL})(context.Background(), g); err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("a failing target: err = %v", err)
	}
}

// TestNotifyOnGiveUp: the text is rendered on the payload's fields and the
// give-up's, and posted as for a delivery.
func TestNotifyOnGiveUp(t *testing.T) {
	g := giveUp(t)
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()
	text, err := ParseTemplate("notify.text", "{{.Endpoint}} gave up on {{.Repo.Name}} (#{{.DeliveryID}}) after {{.Attempts}} attempts: {{.Error}}")
	if err != nil {
		t.Fatal(err)
	}
	if err := NotifyOnGiveUp(Message{Platform: Discord, URL: srv.URL, Text: text})(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	want := `{"content":"retrain gave up on ` + g.Delivery.Payload.Repo.Name + ` (#42) after 10 attempts: exited with code 3"}`
	if string(body) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
}
