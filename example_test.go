package hfhooks_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/hfhooks/hfhooks"
)

// The guide's @webhook_endpoint style: register functions on the default
// server, then run it (on 127.0.0.1:7860, or 0.0.0.0:7860 on a Space).
func ExampleEndpoint() {
	hfhooks.Endpoint("trigger_training", func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		if d.Payload.Repo.Type == hfhooks.RepoDataset && d.Payload.Event.Action == hfhooks.ActionUpdate {
			// Trigger a training job if a dataset is updated.
		}
		return nil, nil
	})
	if err := hfhooks.Run(); err != nil {
		log.Fatal(err)
	}
}

// An explicit server with a secret, mounted here on an httptest server.
func ExampleNewServer() {
	srv := hfhooks.NewServer(hfhooks.WithSecret("my_secret_key"), hfhooks.WithLogger(slog.New(slog.DiscardHandler)))
	err := srv.AddEndpoint("/say_hello", func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		return map[string]string{"message": "hello " + d.Payload.Repo.Name}, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	body, _ := os.ReadFile("testdata/payloads/discussion-update-no-comment.json")
	req, _ := http.NewRequest("POST", hs.URL+"/webhooks/say_hello", bytes.NewReader(body))
	req.Header.Set("X-Webhook-Secret", "my_secret_key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(answer))
	// Output: 200 {"message":"hello Wauplin/leaderboard"}
}

func ExampleDecodePayload() {
	body, _ := os.ReadFile("testdata/payloads/repo-content-updated-refs.json")
	p, err := hfhooks.DecodePayload(body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Event.Scope, p.Event.Action, p.Repo.Type, p.Repo.Name)
	fmt.Println("head:", p.Repo.HeadSha[:7])
	for _, ref := range p.UpdatedRefs {
		fmt.Println(ref.Ref, "new:", ref.OldSha == "", ref.NewSha[:7])
	}

	_, err = hfhooks.DecodePayload([]byte(`{"event":{"action":"update","scope":"repo"},"webhook":{"id":"x","version":3}}`))
	fmt.Println(err)
	// Output:
	// repo.content update space Wauplin/gradio-user-history
	// head: 5e7f29f
	// refs/pr/5 new: true 227c783
	// invalid payload: repo.id: required field is missing or empty
}

// A handler written for today's scopes keeps working when the Hub adds a
// narrower one: the docs say to treat it as an update of the broader scope.
func ExampleEvent_ActionOn() {
	for _, e := range []hfhooks.Event{
		{Scope: "repo.config", Action: hfhooks.ActionUpdate},
		{Scope: "repo.config.dois", Action: hfhooks.ActionCreate},
		{Scope: "repo.content", Action: hfhooks.ActionUpdate},
	} {
		action, ok := e.ActionOn(hfhooks.ScopeRepoConfig)
		fmt.Printf("%s %s -> %q %v\n", e.Scope, e.Action, action, ok)
	}
	// Output:
	// repo.config update -> "update" true
	// repo.config.dois create -> "update" true
	// repo.content update -> "" false
}
