// Package relay lets the Hugging Face Hub deliver webhooks to a machine it
// cannot reach, such as a laptop, through a small relay the user deploys
// once (for example as a Docker Space).
//
// The relay ([Server]) hands out channels. A channel has a public URL,
// https://relay.example/c/<id>, to configure on the Hub, and a token that only
// its owner knows. A listener ([Listener]) holding the token connects out to
// the relay and keeps one long-lived connection open; each webhook POST to
// the channel's URL travels down that connection to the listener, which
// forwards it to a local server, and the local server's status and body go
// back up to the relay, which answers the Hub's request with them. The Hub's
// Activity tab therefore shows what the local server answered.
//
// # Wire protocol
//
//	POST /channels                            create a channel: 201 {"id", "token", "url"}
//	POST /c/<id>[/webhooks/<name>][?query]    a webhook delivery (from the Hub)
//	GET  /channels/<id>/events                the listener's event stream (Bearer <token>)
//	POST /channels/<id>/responses/<delivery>  the local answer to a delivery (Bearer <token>)
//
// A channel is a door for the Hub's deliveries only. The relay answers any
// other method 405 and any other path under /c/<id> 404, and a [Listener]
// refuses, with 404, what does not reach one endpoint of the local server
// (see [Listener.ForwardTo]); neither contacts the local server for it. So
// whoever learns a channel's URL reaches no other route of the local server:
// not its page, /api/*, /metrics or sign-in. The listener never follows a
// redirect the local server answers.
//
// The event stream is server-sent events (text/event-stream) over a plain
// GET. SSE needs nothing beyond the standard library on either side, goes
// through HTTP proxies such as the one in front of Spaces (which would need
// to pass an Upgrade for WebSocket), and the traffic is one-way where it
// matters: deliveries flow down the stream, and the few answers go up as
// ordinary POSTs that can be retried and authenticated like any request.
// A WebSocket library would add a dependency for no gain here.
//
// Events on the stream are "ready" (once, on connect), "delivery" (one per
// webhook POST) and "replaced" (another listener took the channel over; the
// stream then ends), plus comment lines as heartbeats. A delivery's body
// travels base64-encoded inside the event's JSON, so that it arrives byte
// for byte: a receiver that checks the body sees what the Hub sent. Of the
// request headers, only Content-Type and X-Webhook-Secret are passed on.
//
// # Limits
//
// Every limit is checked before the work it bounds, and answers with its
// own status and a message naming it. Before a delivery's body is read: an
// unknown or expired channel gives 404, a channel without a listener 503
// (so that the Hub retries later), more than [WithMaxPending] deliveries in
// flight on the channel 429, a body over [WithMaxBodyBytes] 413, and a body
// that would take the relay past [WithMaxBufferedBytes] across all
// channels 503. A body that does not arrive within [WithReadTimeout] gives
// 408; a delivery without an answer within [WithResponseTimeout] (25 s by
// default, under the Hub's 30 s) 504; one whose listener disconnects while
// it waits, 503 at once. [Server.Serve] also bounds headers (the read
// timeout, 64 KiB) and idle connections ([WithIdleTimeout]).
//
// Channels: a relay holds at most [WithMaxChannels] (more gives 503);
// creation is rate-limited per client address ([WithCreateRate]: 429 with
// Retry-After); a channel no listener ever connected to is forgotten after
// [WithUnclaimedExpiry] (minutes), and one nobody listened on for
// [WithIdleExpiry] (a day).
//
// # Restarts
//
// With [WithStore], channels (never their tokens, only a hash) survive a
// restart of the relay: listeners reconnect to the same channel, and the
// Hub's webhooks keep working. Without it, a [Listener] whose channel the
// restarted relay no longer knows creates a new one and reports it through
// [Listener.OnChannel]. Either way, a Listener treats a relay that is down
// or answers 5xx as a passing outage, and reconnects with capped, jittered
// backoff.
//
// The relay logs no secrets (no channel token, no webhook secret, no query
// string) and keeps no payload once its delivery is answered.
package relay
