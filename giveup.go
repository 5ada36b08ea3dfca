package hfhooks

import "context"

// GiveUp is a delivery that a durable queue gave up on: its handler failed
// on every attempt, or failed in a way that retrying cannot help (a
// StatusError with a 4xx code). The delivery stays failed in the history,
// where it can be re-run.
type GiveUp struct {
	// Delivery is the failed delivery, as its handler got it.
	Delivery *Delivery
	// Attempts is how many times its handler was started.
	Attempts int
	// Error is the handler's last error, with secrets and URL query values
	// redacted.
	Error string
}

// GiveUpFunc acts on a delivery that a queue gave up on, for instance to
// alert someone. Package queue runs it once per given-up delivery (see
// queue.WithGiveUp); package action builds ready-made ones.
type GiveUpFunc func(ctx context.Context, g *GiveUp) error
