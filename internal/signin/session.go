package signin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// codec seals values into cookies and opens them again: AES-256-GCM, so a
// cookie is both encrypted and authenticated, with the cookie's name as
// additional data (a value cannot be moved from one cookie to another).
type codec struct{ aead cipher.AEAD }

// newCodec derives the cookie key from secret with HKDF-SHA256.
func newCodec(secret []byte) (*codec, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, "hfhooks session cookie v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &codec{aead: aead}, nil
}

// seal encodes v as JSON and seals it for the cookie called name.
func (c *codec) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plain)+c.aead.Overhead())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(c.aead.Seal(nonce, nonce, plain, []byte(name))), nil
}

// errBadCookie is the error of a cookie that is not one of ours.
var errBadCookie = errors.New("cookie is not valid")

// open opens the value of the cookie called name into v.
func (c *codec) open(name, value string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < c.aead.NonceSize() {
		return errBadCookie
	}
	n := c.aead.NonceSize()
	plain, err := c.aead.Open(nil, raw[:n], raw[n:], []byte(name))
	if err != nil {
		return errBadCookie
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("%w: %v", errBadCookie, err)
	}
	return nil
}

// Cookie names.
const (
	sessionCookie = "hfhooks_session"
	flowCookie    = "hfhooks_signin" // the state of a sign-in in progress
)

// session is what the session cookie holds.
type session struct {
	User    string   `json:"u"`           // the Hub user name, or "" for the operator token
	Name    string   `json:"n,omitempty"` // the full name
	Orgs    []string `json:"o,omitempty"` // the user's orgs that were allowed at sign-in
	Token   bool     `json:"t,omitempty"` // signed in with the operator token
	Expires int64    `json:"e"`           // Unix seconds
}

// flow is what the sign-in cookie holds between login and callback.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"`
}

// cookie builds a cookie of the gate's: HttpOnly, SameSite=Lax (it is sent
// on the top-level navigation back from the Hub, never on a cross-site
// POST), Secure when the page is served over https.
func cookie(name, value string, maxAge time.Duration, secure bool) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
		c.Expires = time.Now().Add(maxAge)
	} else {
		c.MaxAge = -1
	}
	return c
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
