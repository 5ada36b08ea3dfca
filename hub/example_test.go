package hub_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/hfhooks/hfhooks/hub"
)

// fakeHub stands in for huggingface.co: it answers a create with the webhook
// it was sent, and knows no other webhook.
func fakeHub() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, `{"webhook": {"id": "654bbbc16f2ec14d77f109cc", "disabled": false, "secret": "your-secret", "url": "https://webhook.site/your-custom-url",
			"watched": [{"type": "user", "name": "your-username"}, {"type": "org", "name": "your-org-name"}], "domains": ["repo", "discussion"], "sent": %s}}`, body)
	})
	mux.HandleFunc("GET /api/settings/webhooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error": "Webhook not found"}`)
	})
	return httptest.NewServer(mux)
}

func ExampleClient_CreateWebhook() {
	srv := fakeHub()
	defer srv.Close()

	// Without WithEndpoint, the client talks to HF_ENDPOINT or huggingface.co.
	client, err := hub.NewClient(hub.WithEndpoint(srv.URL), hub.WithToken("hf_xxx"))
	if err != nil {
		log.Fatal(err)
	}
	// docs:begin create
	webhook, err := client.CreateWebhook(context.Background(), hub.CreateWebhookOptions{
		URL: "https://webhook.site/your-custom-url",
		Watched: []hub.WatchedItem{
			{Type: hub.WatchedUser, Name: "your-username"},
			{Type: hub.WatchedOrg, Name: "your-org-name"},
		},
		Domains: []hub.Domain{hub.DomainRepo, hub.DomainDiscussion},
		Secret:  "your-secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	// docs:end
	fmt.Println(webhook.ID, webhook.URL, webhook.Watched, webhook.Domains)
	// Output: 654bbbc16f2ec14d77f109cc https://webhook.site/your-custom-url [{user your-username} {org your-org-name}] [repo discussion]
}

func ExampleClient_GetWebhook_notFound() {
	srv := fakeHub()
	defer srv.Close()

	client, err := hub.NewClient(hub.WithEndpoint(srv.URL), hub.WithToken("hf_xxx"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.GetWebhook(context.Background(), "no-such-id")
	var apiErr *hub.Error
	if errors.As(err, &apiErr) {
		fmt.Println(errors.Is(err, hub.ErrNotFound), apiErr.StatusCode, apiErr.Message)
	}
	// Output: true 404 Webhook not found
}

// Managing webhooks on the Hub, as huggingface_hub's list_webhooks,
// update_webhook, enable_webhook, disable_webhook and delete_webhook do
// (ExampleClient_CreateWebhook creates one). The client finds its token in HF_TOKEN or the file
// written by "hf auth login".
func Example_manage() {
	// docs:begin new-client
	client, err := hub.NewClient() // or hub.NewClient(hub.WithToken("hf_..."))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	// docs:end

	// docs:begin list
	webhooks, err := client.ListWebhooks(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range webhooks {
		fmt.Println(w.ID, w.URL, w.Disabled, w.Watched)
	}
	// docs:end

	// docs:begin update
	updated, err := client.UpdateWebhook(ctx, "your-webhook-id", hub.UpdateWebhookOptions{
		URL:     hub.Ptr("https://new.webhook.site/url"),
		Watched: []hub.WatchedItem{{Type: hub.WatchedUser, Name: "new-username"}},
		Domains: []hub.Domain{hub.DomainRepo},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Updated", updated.ID, updated.URL)
	// docs:end

	// docs:begin toggle
	enabled, err := client.EnableWebhook(ctx, "your-webhook-id")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Enabled:", !enabled.Disabled)

	disabled, err := client.DisableWebhook(ctx, "your-webhook-id")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Disabled:", disabled.Disabled)
	// docs:end

	// docs:begin delete
	if err := client.DeleteWebhook(ctx, "your-webhook-id"); err != nil {
		log.Fatal(err)
	}
	// docs:end

	// docs:begin not-found
	if _, err := client.GetWebhook(ctx, "your-webhook-id"); errors.Is(err, hub.ErrNotFound) {
		fmt.Println("gone")
	}
	// docs:end
}
