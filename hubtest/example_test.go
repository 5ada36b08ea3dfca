package hubtest_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
)

// A complete test of a receiver against the emulated Hub: create a webhook
// with the hub client, make the Hub emit an event, wait for the delivery and
// check what the handler saw.
func ExampleNewServer() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The receiver under test.
	seen := make(chan string, 1)
	receiver := hfhooks.NewServer(hfhooks.WithSecret("s3cret"), hfhooks.WithLogger(slog.New(slog.DiscardHandler)))
	err := receiver.AddEndpoint("sync", func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		seen <- fmt.Sprintf("%s %s on %s %s", d.Payload.Event.Scope, d.Payload.Event.Action, d.Payload.Repo.Type, d.Payload.Repo.Name)
		return nil, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	rs := httptest.NewServer(receiver)
	defer rs.Close()

	// The emulated Hub, with short retries for a test.
	h := hubtest.NewServer(hubtest.WithRetrySchedule(10 * time.Millisecond))
	defer h.Close()
	client, err := hub.NewClient(hub.WithEndpoint(h.URL), hub.WithToken(h.Token))
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.CreateWebhook(ctx, hub.CreateWebhookOptions{
		URL:     rs.URL + "/webhooks/sync",
		Secret:  "s3cret",
		Watched: []hub.WatchedItem{{Type: hub.WatchedDataset, Name: "acme/reviews"}},
	})
	if err != nil {
		log.Fatal(err)
	}

	sent, err := h.Emit(ctx, hubtest.Event{Kind: "repo.content", Repo: "dataset:acme/reviews"})
	if err != nil {
		log.Fatal(err)
	}
	d, err := h.WaitForDelivery(ctx, sent.Deliveries[0].ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.State, d.Attempts[0].StatusCode)
	fmt.Println(<-seen)
	// Output:
	// delivered 200
	// repo.content update on dataset acme/reviews
}

// A test of a handler alone: build the delivery of an event, as the Hub
// would send it, and call the handler with it.
func ExampleNewDelivery() {
	triggerTraining := func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		if d.Payload.Repo.Type != hfhooks.RepoDataset {
			return "skipped", nil
		}
		return "training on " + d.Payload.Repo.Name, nil
	}
	for _, repo := range []string{"dataset:acme/reviews", "model:acme/llm"} {
		d, err := hubtest.NewDelivery(hubtest.Event{Kind: "repo.update", Repo: repo})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(triggerTraining(context.Background(), d))
	}
	// Output:
	// training on acme/reviews <nil>
	// skipped <nil>
}

// A test of a receiver over HTTP: send an event to an endpoint with the
// webhook secret, as the Hub does.
func ExampleSend() {
	receiver := hfhooks.NewServer(hfhooks.WithSecret("s3cret"), hfhooks.WithLogger(slog.New(slog.DiscardHandler)))
	err := receiver.AddEndpoint("hello", func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		return map[string]string{"repo": d.Payload.Repo.Name}, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	rs := httptest.NewServer(receiver)
	defer rs.Close()

	resp, err := hubtest.Send(context.Background(), rs.URL+"/webhooks/hello", "s3cret", hubtest.Event{Kind: "repo.content", Repo: "model:acme/llm"})
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output:
	// 200 {"repo":"acme/llm"}
}
