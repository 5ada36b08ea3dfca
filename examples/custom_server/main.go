// Command custom_server is the guide's explicit WebhooksServer: a custom
// landing page, a secret, and endpoints with an explicit and an implicit
// name. Run it with "go run ./examples/custom_server".
package main

import (
	"context"
	"log"
	"net/http"

	"github.com/hfhooks/hfhooks"
)

func main() {
	srv, err := newServer()
	if err != nil {
		log.Fatal(err)
	}
	// 5. Start the server; it stops gracefully on Ctrl-C.
	if err := srv.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

// page is the custom landing page, in place of the default one.
const page = `<!doctype html><title>My webhooks</title>
<h1>My webhooks</h1><p>POST Hub events to /webhooks/say_hello or /webhooks/goodbye.</p>`

func newServer() (*hfhooks.Server, error) {
	// 1. Define the UI: any http.Handler.
	ui := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	// 2. Create the server with the custom UI and a secret.
	srv := hfhooks.NewServer(hfhooks.WithUI(ui), hfhooks.WithSecret("my_secret_key"))
	// 3. Register an endpoint with an explicit path: /webhooks/say_hello.
	if err := srv.AddEndpoint("/say_hello", hello); err != nil {
		return nil, err
	}
	// 4. Register an endpoint named like its function: /webhooks/goodbye.
	if err := srv.AddEndpoint("goodbye", goodbye); err != nil {
		return nil, err
	}
	return srv, nil
}

func hello(context.Context, *hfhooks.Delivery) (any, error) {
	return map[string]string{"message": "hello"}, nil
}

func goodbye(context.Context, *hfhooks.Delivery) (any, error) {
	return map[string]string{"message": "goodbye"}, nil
}
