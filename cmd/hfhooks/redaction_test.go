package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServeRedaction runs a receiver on a Space with a forward whose URL
// carries a token and a command that prints a secret-looking value, both
// failing: neither value reaches the logs, the answers to the sender,
// trigger's output, or anyone but an operator; even operators see the
// forward's URL redacted.
func TestServeRedaction(t *testing.T) {
	const (
		forwardToken = "SEKRET-FORWARD-TOKEN"
		printed      = "SEKRET-DEPLOY-KEY"
		operator     = "operator-token-for-the-test"
	)
	t.Setenv("SPACE_ID", "acme/hooks")
	t.Setenv("HFHOOKS_UI_TOKEN", operator)
	dir := t.TempDir()
	path := writeConfig(t, dir, `secret: s
hooks:
  - name: fwd
    forward:
      url: http://127.0.0.1:1/hook?token=`+forwardToken+`
  - name: cmd
    run:
      command: [sh, -c, 'echo deploy_key=`+printed+`; exit 1']
`)
	base, out, logs := startServe(t, "--config", path, "--queue", "none")
	var cliOutput strings.Builder
	for _, hook := range []string{"fwd", "cmd"} {
		code, answer := trigger(t, "repo.content", "--url", base+"/webhooks/"+hook, "--secret", "s")
		if code != exitFailure {
			t.Errorf("trigger %s: exit %d, want 1 (the hook fails): %s", hook, code, answer)
		}
		cliOutput.WriteString(answer)
	}

	get := func(path, bearer string) string {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Accept", "text/html")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	anonymous := get("/", "") + get("/api/deliveries", "")
	operatorView := get("/api/deliveries", operator) + get("/", operator)
	for where, text := range map[string]string{
		"the logs":                         logs.String(),
		"serve's output":                   out.String(),
		"trigger's output (the answer)":    cliOutput.String(),
		"the page and API, anonymously":    anonymous,
		"the page and API, to an operator": strings.ReplaceAll(operatorView, printed, ""), // the output is theirs
	} {
		for _, secret := range []string{forwardToken, printed, operator} {
			if strings.Contains(text, secret) {
				t.Errorf("%s show %s:\n%s", where, secret, text)
			}
		}
	}
	if !strings.Contains(operatorView, printed) || !strings.Contains(operatorView, "token=xxxxx") {
		t.Errorf("an operator does not see the command's output and the forward's redacted URL:\n%s", operatorView)
	}
}
