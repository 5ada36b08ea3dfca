package hubtest

import "time"

// WithOAuthTTLs sets how long the OpenID provider's authorization codes and
// access tokens last, for the tests of their expiry.
func WithOAuthTTLs(code, access time.Duration) Option {
	return func(c *config) { c.codeTTL, c.accessTTL = code, access }
}
