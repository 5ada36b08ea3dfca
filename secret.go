package hfhooks

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/hfhooks/hfhooks/internal/wire"
)

// SecretHeader is the header in which the Hub sends a webhook's secret.
const SecretHeader = wire.SecretHeader

// secrets holds the SHA-256 digests of the accepted secrets, so that
// comparisons take the same time whatever the lengths.
type secrets [][sha256.Size]byte

func newSecrets(values []string) secrets {
	var s secrets
	for _, v := range values {
		if v != "" {
			s = append(s, sha256.Sum256([]byte(v)))
		}
	}
	return s
}

// secretResult is the outcome of checking a request's secret.
type secretResult int

const (
	secretOK secretResult = iota
	secretMissing
	secretWrong
)

// check looks for the secret in the X-Webhook-Secret header, else in the
// "secret" query parameter (the form the Hub docs suggest), and compares it
// in constant time with every accepted secret.
func (s secrets) check(r *http.Request) secretResult {
	if len(s) == 0 {
		return secretOK
	}
	given, ok := r.Header[SecretHeader]
	if !ok {
		q := r.URL.Query()
		if !q.Has("secret") {
			return secretMissing
		}
		given = []string{q.Get("secret")}
	}
	if len(given) == 0 {
		return secretMissing
	}
	sum := sha256.Sum256([]byte(given[0]))
	match := 0
	for i := range s {
		match |= subtle.ConstantTimeCompare(sum[:], s[i][:])
	}
	if match == 1 {
		return secretOK
	}
	return secretWrong
}
