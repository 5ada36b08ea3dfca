// Package redact hides secrets in what hfhooks shows to people: errors, log
// lines, pages and command output.
//
// A URL may carry secrets in two places: the password of its userinfo
// (postgres://user:PASSWORD@host/db) and its query (?secret=..., ?token=...).
// [URL] replaces the password and every query value by [Mask], keeping the
// names, so that what remains still says which URL it was; [String] does the
// same to each URL inside a free text, such as the message of a *url.Error;
// [Error] wraps an error so that its message is redacted while errors.Is and
// errors.As still see the original.
//
// Redaction works on the text, without parsing and re-encoding the URL, so
// that input net/url rejects is redacted all the same, and what is not a
// secret comes out byte for byte.
package redact

import (
	"regexp"
	"strings"
)

// Mask is what replaces a password or a query value.
const Mask = "xxxxx"

// URL returns raw with the password of its userinfo and the value of each
// query (and fragment) parameter replaced by [Mask]. Parameter names, the
// user name, the host and the path are kept; an empty value stays empty.
// Text that is not a URL comes back unchanged, unless it has a '?', after
// which it is taken for a query.
func URL(raw string) string {
	s := raw
	// The authority follows the first "//", unless a path, a query or a
	// fragment began before it.
	if i := strings.Index(s, "//"); i >= 0 && !strings.ContainsAny(s[:i], "/?#") {
		start, end := i+len("//"), len(s)
		if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
			end = start + j
		}
		s = s[:start] + userinfo(s[start:end]) + s[end:]
	}
	var fragment string
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s, fragment = s[:i], "#"+params(s[i+1:])
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i+1] + params(s[i+1:])
	}
	return s + fragment
}

// Origin returns raw with everything after its authority replaced by
// [Mask], and its password masked: "https://hooks.slack.com/xxxxx". It is
// for URLs whose path is itself a credential, as the incoming webhooks of
// Slack and Discord are. Text that is not a URL with a scheme gives Mask.
func Origin(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 || strings.ContainsAny(raw[:i], "/?#") {
		return Mask
	}
	start := i + len("://")
	end := len(raw)
	if j := strings.IndexAny(raw[start:], "/?#"); j >= 0 {
		end = start + j
	}
	out := raw[:start] + userinfo(raw[start:end])
	if end < len(raw) {
		out += "/" + Mask
	}
	return out
}

// userinfo masks the password in an authority, user:password@host.
func userinfo(authority string) string {
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return authority
	}
	colon := strings.IndexByte(authority[:at], ':')
	if colon < 0 {
		return authority
	}
	return authority[:colon+1] + Mask + authority[at:]
}

// params masks the values of a query, name=value&name=value. A part without
// '=' is a name and is kept.
func params(query string) string {
	parts := strings.Split(query, "&")
	for i, p := range parts {
		if name, value, ok := strings.Cut(p, "="); ok && value != "" {
			parts[i] = name + "=" + Mask
		}
	}
	return strings.Join(parts, "&")
}

// urlInText matches a URL inside free text: a scheme URL, or a path with a
// query, ending at a space, a quote or an angle bracket. An escaped
// character (\" in a %q-quoted URL) does not end it.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://(?:\\.|[^\s"'<>\\])*|/(?:\\.|[^\s"'<>\\?])*\?(?:\\.|[^\s"'<>\\])*`)

// String returns s with each URL in it redacted by [URL]; it is meant for
// messages that quote URLs, as *url.Error does. Punctuation that ends a URL
// (as in "forward to URL: 500") is taken for the text's:
//
//	Post "http://h/x?token=abc": dial tcp ...
//
// becomes
//
//	Post "http://h/x?token=xxxxx": dial tcp ...
func String(s string) string {
	if !strings.Contains(s, "://") && !strings.Contains(s, "?") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, func(u string) string {
		trimmed := strings.TrimRight(u, ".,:;!)]}")
		return URL(trimmed) + u[len(trimmed):]
	})
}

// Error returns err with its message redacted by [String]; errors.Is and
// errors.As see err through it. A nil err gives nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	if r, ok := err.(*redacted); ok {
		return r
	}
	return &redacted{err: err}
}

// redacted is an error whose message is redacted.
type redacted struct{ err error }

func (e *redacted) Error() string { return String(e.err.Error()) }
func (e *redacted) Unwrap() error { return e.err }
