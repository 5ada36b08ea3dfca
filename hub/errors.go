package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hfhooks/hfhooks/internal/redact"
)

// Sentinel errors an [*Error] matches with errors.Is, by status code.
var (
	// ErrBadRequest matches a 400 answer.
	ErrBadRequest = errors.New("hub: bad request")
	// ErrUnauthorized matches a 401 answer: no token (see NewClient for
	// where a Client finds one, and WithToken), or a token the Hub does not
	// accept.
	ErrUnauthorized = errors.New("hub: unauthorized")
	// ErrForbidden matches a 403 answer: the token lacks a permission.
	ErrForbidden = errors.New("hub: forbidden")
	// ErrNotFound matches a 404 answer, for example an unknown webhook id.
	ErrNotFound = errors.New("hub: not found")
	// ErrRateLimited matches a 429 answer.
	ErrRateLimited = errors.New("hub: rate limited")
)

// sentinels maps a status code to the sentinel an Error matches.
var sentinels = map[int]error{
	http.StatusBadRequest:      ErrBadRequest,
	http.StatusUnauthorized:    ErrUnauthorized,
	http.StatusForbidden:       ErrForbidden,
	http.StatusNotFound:        ErrNotFound,
	http.StatusTooManyRequests: ErrRateLimited,
}

// Error is a non-2xx answer from the Hub.
type Error struct {
	// Method and URL are those of the request that failed.
	Method string
	URL    string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Message is what the server said: the X-Error-Message header and the
	// error, error_description and errors[].message fields of a JSON body,
	// or a plain-text (not HTML) body; lines de-duplicated and joined by
	// newlines. It may be empty.
	Message string
	// RequestID identifies the request for the Hub's support: the
	// X-Request-Id header, else X-Amzn-Trace-Id, else X-Amz-Cf-Id.
	RequestID string
	// TokenSent is whether the request carried a token.
	TokenSent bool
}

// Error describes the failure and, for a 401 or a 403, what is missing: a
// token, a token the Hub accepts, or a permission. The URL shows no
// password or query value.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hub: %s %s: %d %s", e.Method, redact.URL(e.URL), e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (Request ID: %s)", e.RequestID)
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		if e.TokenSent {
			b.WriteString("\nThe Hub did not accept the token.")
		} else {
			b.WriteString("\nNo token was sent.")
		}
	case http.StatusForbidden:
		if strings.Contains(e.URL, "/discussions/") {
			b.WriteString("\nMake sure your token has the correct permissions (writing to discussions needs a \"write\" token, or the \"discussions\" permission of a fine-grained one).")
		} else {
			b.WriteString("\nMake sure your token has the correct permissions (managing webhooks needs the \"webhooks\" scope).")
		}
	}
	return b.String()
}

// Is reports whether target is the sentinel for e's status code, so that
// errors.Is(err, hub.ErrNotFound) holds for a 404.
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.StatusCode]
	return ok && s == target
}

// newError builds an Error from a failed response and closes its body.
func newError(resp *http.Response) *Error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, resp.Body)
	e := &Error{
		Method:     resp.Request.Method,
		URL:        resp.Request.URL.String(),
		StatusCode: resp.StatusCode,
		Message:    serverMessage(resp.Header, body),
		TokenSent:  resp.Request.Header.Get("Authorization") != "",
	}
	for _, h := range []string{"X-Request-Id", "X-Amzn-Trace-Id", "X-Amz-Cf-Id"} {
		if v := resp.Header.Get(h); v != "" {
			e.RequestID = v
			break
		}
	}
	return e
}

// errorBody holds the fields of a JSON error body the Hub uses.
type errorBody struct {
	Error            json.RawMessage `json:"error"`
	ErrorDescription string          `json:"error_description"`
	Errors           []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// serverMessage collects what the server said about an error, as
// huggingface_hub's hf_raise_for_status does.
func serverMessage(h http.Header, body []byte) string {
	var lines []string
	if v := h.Get("X-Error-Message"); v != "" {
		lines = append(lines, v)
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil {
		var single string
		var list []string
		switch {
		case json.Unmarshal(eb.Error, &single) == nil && single != "":
			if eb.ErrorDescription != "" {
				single += ": " + eb.ErrorDescription
			}
			lines = append(lines, single)
		case json.Unmarshal(eb.Error, &list) == nil:
			lines = append(lines, list...)
			lines = append(lines, eb.ErrorDescription)
		default:
			lines = append(lines, eb.ErrorDescription)
		}
		for _, m := range eb.Errors {
			lines = append(lines, m.Message)
		}
	} else if len(body) > 0 && !strings.Contains(strings.ToLower(h.Get("Content-Type")), "html") {
		lines = append(lines, string(body))
	}
	seen := make(map[string]bool, len(lines))
	var out []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || seen[l] {
			continue
		}
		seen[l] = true
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// ArgumentError is an invalid argument, found before any request is sent.
type ArgumentError struct {
	// Arg names the argument at fault, as the Python library names it:
	// "id", "url", "job_id", "watched", "domains" or "secret".
	Arg string
	// Problem says what is wrong with it.
	Problem string
}

// Error names the argument and the problem.
func (e *ArgumentError) Error() string {
	return fmt.Sprintf("hub: invalid argument %s: %s", e.Arg, e.Problem)
}
