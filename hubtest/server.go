package hubtest

import "net/http/httptest"

// Server is a [Hub] listening on a loopback port, for tests, as
// [httptest.Server] is for handlers.
type Server struct {
	*Hub
	// URL is the base URL of the Hub, http://127.0.0.1:PORT: give it to
	// hub.WithEndpoint or HF_ENDPOINT, and as the OpenID provider's URL to
	// a sign-in client (OPENID_PROVIDER_URL).
	URL string
	// Token is the first of [Hub.Tokens]: a random one unless
	// [WithTokens] gave some.
	Token string

	ts *httptest.Server
}

// NewServer starts a Hub configured by opts on a loopback port. Close it
// when done.
func NewServer(opts ...Option) *Server {
	h := New(opts...)
	ts := httptest.NewServer(h)
	return &Server{Hub: h, URL: ts.URL, Token: h.tokens[0], ts: ts}
}

// Close stops the deliveries, then the HTTP server.
func (s *Server) Close() {
	s.Hub.Close()
	s.ts.Close()
}
