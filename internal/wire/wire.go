// Package wire holds the facts of the Hub's webhook requests that the
// receiver, the relay and the emulator share, in a leaf package so that
// importing the relay or the emulator does not pull in the receiver.
// Package hfhooks re-exports them.
package wire

// SecretHeader is the header in which the Hub sends a webhook's secret.
const SecretHeader = "X-Webhook-Secret"

// DefaultMaxBodyBytes is the largest request body a receiver accepts by
// default (1 MiB).
const DefaultMaxBodyBytes = 1 << 20
