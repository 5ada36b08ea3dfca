package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks/internal/hooktest"
	"github.com/hfhooks/hfhooks/internal/sample"
)

func TestCustomServer(t *testing.T) {
	srv, err := newServer()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	resp, err := http.Get(hs.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "<h1>My webhooks</h1>") {
		t.Errorf("landing page is not the custom UI: %s", body)
	}
	for _, tt := range []struct {
		path, secret string
		code         int
		want         any
	}{
		{"say_hello", "my_secret_key", 200, map[string]any{"message": "hello"}},
		{"goodbye", "my_secret_key", 200, map[string]any{"message": "goodbye"}},
		{"say_hello", "", 401, map[string]any{"error": "x-webhook-secret header not set."}},
		{"goodbye", "wrong", 403, map[string]any{"error": "Invalid webhook secret."}},
	} {
		code, got := hooktest.Send(t, hs.URL+"/webhooks/"+tt.path, tt.secret, "discussion.create", sample.Options{})
		if code != tt.code || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s with secret %q: %d %v, want %d %v", tt.path, tt.secret, code, got, tt.code, tt.want)
		}
	}
}
