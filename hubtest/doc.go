// Package hubtest is a local emulator of the Hugging Face Hub's side of
// webhooks, for tests and for trying receivers offline.
//
// It serves the webhook management API exactly where the Hub does
// (/api/settings/webhooks, with the same bodies, wrapping and errors), so
// that the hub package, huggingface_hub and "hfhooks webhooks" work against
// it unchanged. It makes the emulated Hub emit an event of any of [Kinds]
// (the ones "hfhooks trigger" sends), matches it against the webhooks as the Hub does, and delivers it
// with the Hub's rules: one ordered queue per webhook, a timeout, retries on
// a backoff schedule, suspension after repeated failures and a rate limit.
// Every delivery is kept in the webhook's activity, which can be read and
// replayed, over HTTP, in Go and on a small web page at /.
//
// Use [NewServer] in Go tests, as net/http/httptest's NewServer:
//
//	srv := hubtest.NewServer(hubtest.WithRetrySchedule(10 * time.Millisecond))
//	defer srv.Close()
//	client, _ := hub.NewClient(hub.WithEndpoint(srv.URL), hub.WithToken(srv.Token))
//
// and [New] for an [http.Handler] to serve yourself, as "hfhooks hub" does.
//
// It serves the Hub's discussion API too (GET /api/whoami-v2 and the
// comment, status, title, merge, edit and hide calls of huggingface_hub),
// for bots: each call acts as the token's [User], and emits the events it
// causes, as the Hub does: a comment is a discussion.comment.create whose
// author is that user, so that a bot sees its own comments come back. The
// discussions it acts on are those emitted events made; read them with
// [Hub.Discussion].
//
// To test a handler without the emulator, [NewDelivery] builds the delivery
// of an event, to call the handler with, and [Send] sends an event to an
// endpoint, with the webhook secret, as the Hub does.
//
// It also plays the Hub's OpenID provider, so that "Sign in with Hugging
// Face" works offline: point OPENID_PROVIDER_URL at the Hub's URL, with the
// client of [Hub.OAuthClient], and sign in with one of the Hub's tokens; the
// token's [User], set with [WithUser], is who signs in.
package hubtest
