// Package hfhooks receives Hugging Face Hub webhooks: it decodes the typed
// version 3 payload, verifies the shared secret, and routes each delivery to
// the handler of an endpoint, POST /webhooks/<name>.
//
// It is the Go counterpart of huggingface_hub's WebhooksServer,
// webhook_endpoint and WebhookPayload. A Server is an http.Handler, so it can
// run on its own (Server.Run, or the package-level Endpoint and Run) or be
// mounted in any router.
//
// Words: an endpoint is a route on this server, /webhooks/<name>, with its
// handler and options; a webhook is the Hub's object that sends deliveries
// to it (managed with package hub); a delivery is one POST; an event is what
// happened on the Hub.
//
// # Endpoints
//
// A [HandlerFunc] gets a [*Delivery]: the decoded [Payload], the raw body
// and the headers. Its result is the JSON answer; an [Error] or a
// [*StatusError] chooses the status. Register handlers on the default
// server with [Endpoint] and serve it with [Run], as huggingface_hub's
// @webhook_endpoint does:
//
//	hfhooks.Endpoint("trigger_training", func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
//		if d.Payload.Repo.Type == hfhooks.RepoDataset && d.Payload.Event.Action == hfhooks.ActionUpdate {
//			// start a training job
//		}
//		return nil, nil
//	})
//	log.Fatal(hfhooks.Run())
//
// [DecodePayload] decodes a body on its own, with [*PayloadError] for what
// is wrong with it.
//
// # Server and options
//
// [NewServer] takes options ([WithSecret], [WithUI], [WithLogger], ...).
// [Server.AddEndpoint] registers an endpoint, with options of its own
// ([EndpointFilter] with a [Filter], [EndpointSecret], [EndpointTimeout],
// [EndpointConcurrency], [EndpointDescription]), checked at registration; [Server.ReplaceEndpoints]
// swaps the whole set, as a reload of hooks.yaml does. Besides the
// endpoints, a Server serves a landing page, /api/deliveries, the
// delivery inspector (/deliveries/{id} and /api/deliveries/{id}, a
// [DeliveryDetail] with each [Attempt]), /healthz, /readyz and, with
// [WithMetrics], /metrics; [WithAccess] says who may see the page and
// the APIs. [WithObserver] reports each request and handler run to an
// [Observer], such as package metrics' Prometheus collectors.
//
// # Durable mode
//
// By default a handler runs while the Hub waits (sync mode), and a
// delivery whose handler fails is lost unless the Hub sends it again. With
// [WithQueue], each accepted delivery is committed to a [Queue] before the
// answer, and the queue's workers run the handlers, with retries: package
// queue implements it on River, with SQLite or PostgreSQL. A [GiveUpFunc]
// given to the queue is told of each delivery it gives up on ([GiveUp]).
//
// # For queue implementers
//
// A queue of your own implements [Queue] and, optionally, [QueueHistory]
// (the page and /api/deliveries list its deliveries, show one, and re-run
// failed ones) and [QueueHealth] (GET /healthz and GET /readyz ask it, with
// [QueueStats]). It runs deliveries with
// an [Executor], which a Server is ([Server.Execute]), and exchanges
// [Receipt], [EndpointSettings], [DeliveryRecord], [HistoryQuery],
// [HistoryPage] and [DeliveryDetail] with the Server; [OutputOf] reads what a handler's result
// carries for the record. They are in queue.go.
//
// # Testing
//
// Package hubtest builds deliveries to call a handler with
// (hubtest.NewDelivery), sends events to an endpoint (hubtest.Send), and
// emulates the Hub's side of webhooks, to test a receiver end to end
// (hubtest.NewServer).
package hfhooks
