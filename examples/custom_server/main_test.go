package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks/hubtest"
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
		want         map[string]string
	}{
		{"say_hello", "my_secret_key", 200, map[string]string{"message": "hello"}},
		{"goodbye", "my_secret_key", 200, map[string]string{"message": "goodbye"}},
		{"say_hello", "", 401, map[string]string{"error": "x-webhook-secret header not set."}},
		{"goodbye", "wrong", 403, map[string]string{"error": "Invalid webhook secret."}},
	} {
		resp, err := hubtest.Send(context.Background(), hs.URL+"/webhooks/"+tt.path, tt.secret, hubtest.Event{Kind: "discussion.create"})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tt.code || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s with secret %q: %d %v (%v), want %d %v", tt.path, tt.secret, resp.StatusCode, got, err, tt.code, tt.want)
		}
	}
}
