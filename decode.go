package hfhooks

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Sentinel errors for errors.Is on the errors DecodePayload returns.
var (
	// ErrInvalidJSON: the body is empty or not JSON.
	ErrInvalidJSON = errors.New("invalid JSON")
	// ErrInvalidPayload: the body is JSON but not a valid payload: a
	// field has the wrong type, or a required field is missing.
	ErrInvalidPayload = errors.New("invalid payload")
	// ErrUnsupportedVersion: webhook.version is not 3.
	ErrUnsupportedVersion = errors.New("unsupported webhook version")
)

// PayloadError describes why a body is not a valid version 3 payload.
type PayloadError struct {
	// Kind is ErrInvalidJSON, ErrInvalidPayload or ErrUnsupportedVersion.
	Kind error
	// Field is the dotted path of the field at fault (for example
	// "repo.owner.id"), when one field is.
	Field string
	// Detail says what is wrong.
	Detail string
}

func (e *PayloadError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%v: %s: %s", e.Kind, e.Field, e.Detail)
	}
	return fmt.Sprintf("%v: %s", e.Kind, e.Detail)
}

// Unwrap returns Kind, so that errors.Is(err, ErrInvalidJSON) and friends work.
func (e *PayloadError) Unwrap() error { return e.Kind }

// StatusCode is the HTTP status a receiver answers with: 400 for a body that
// is not JSON, 422 for JSON that is not a valid payload.
func (e *PayloadError) StatusCode() int {
	if e.Kind == ErrInvalidJSON {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

// DecodePayload decodes and validates a version 3 webhook payload.
//
// Keys match exactly, as the Hub sends them (pydantic matches them exactly
// too); a duplicate key or invalid UTF-8 makes the body invalid JSON.
// It accepts what the Hub sends today and what it may add later: unknown
// fields are ignored, and unknown values of event.action, repo.type and
// discussion.status are kept as they are (see the Known methods). It rejects
// a body that is not a JSON object, a payload missing a required field and a
// webhook.version other than 3. Errors are *PayloadError.
func DecodePayload(body []byte) (*Payload, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &PayloadError{Kind: ErrInvalidJSON, Detail: "the request body is empty"}
	}
	var w wirePayload
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, jsonError(err)
	}
	p, err := w.payload()
	if err != nil {
		return nil, err
	}
	return p, nil
}

// jsonError turns an error of the JSON decoder into a *PayloadError.
func jsonError(err error) *PayloadError {
	var syntax *jsontext.SyntacticError
	var semantic *json.SemanticError
	switch {
	case errors.As(err, &syntax):
		return &PayloadError{Kind: ErrInvalidJSON, Detail: fmt.Sprintf("%v (at byte %d)", syntax.Err, syntax.ByteOffset)}
	case errors.As(err, &semantic) && semantic.JSONPointer == "":
		return &PayloadError{Kind: ErrInvalidPayload, Detail: "the payload must be a JSON object, not " + kindName(semantic.JSONKind)}
	case errors.As(err, &semantic):
		detail := "got " + kindName(semantic.JSONKind)
		if semantic.GoType != nil {
			detail = "expected " + goKindName(semantic.GoType.Kind().String()) + ", " + detail
		}
		return &PayloadError{Kind: ErrInvalidPayload, Field: fieldPath(semantic.JSONPointer), Detail: detail}
	}
	return &PayloadError{Kind: ErrInvalidPayload, Detail: err.Error()}
}

// fieldPath turns a JSON Pointer ("/updatedRefs/0/ref") into the dotted
// path the errors use ("updatedRefs[0].ref").
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// kindName names the kind of a JSON value.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "an invalid value"
}

// goKindName names a Go kind as JSON does.
func goKindName(goKind string) string {
	switch goKind {
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	}
	return goKind
}

// wirePayload is what DecodePayload unmarshals into, in one pass: the
// public types, with the required fields whose zero value cannot tell
// "false" or 0 from "missing" shadowed by pointers.
type wirePayload struct {
	Payload
	Repo       wireRepo        `json:"repo"`
	Discussion *wireDiscussion `json:"discussion"`
	Comment    *wireComment    `json:"comment"`
}

type wireRepo struct {
	Repo
	Private *bool `json:"private"`
}

type wireDiscussion struct {
	Discussion
	Num           *int  `json:"num"`
	IsPullRequest *bool `json:"isPullRequest"`
}

type wireComment struct {
	Comment
	Hidden *bool `json:"hidden"`
}

// payload validates w and returns the public Payload.
func (w *wirePayload) payload() (*Payload, error) {
	p := &w.Payload
	seen := seen{private: w.Repo.Private != nil}
	p.Repo = w.Repo.Repo
	p.Repo.Private = deref(w.Repo.Private)
	if d := w.Discussion; d != nil {
		seen.num, seen.isPullRequest = d.Num != nil, d.IsPullRequest != nil
		p.Discussion = &d.Discussion
		p.Discussion.Num = deref(d.Num)
		p.Discussion.IsPullRequest = deref(d.IsPullRequest)
	}
	if c := w.Comment; c != nil {
		seen.hidden = c.Hidden != nil
		p.Comment = &c.Comment
		p.Comment.Hidden = deref(c.Hidden)
	}
	return p, p.validate(seen)
}

// seen tells which required fields of the wire form were present, where
// the zero value of the public field cannot tell.
type seen struct{ private, num, isPullRequest, hidden bool }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// validate checks the required fields of spec §3.2, in its order, and the
// version.
func (p *Payload) validate(seen seen) error {
	v := validator{}
	v.str("event.action", string(p.Event.Action))
	v.str("event.scope", p.Event.Scope)

	r := &p.Repo
	v.str("repo.id", r.ID)
	v.str("repo.owner.id", r.Owner.ID)
	v.str("repo.name", r.Name)
	v.has("repo.private", seen.private)
	v.str("repo.type", string(r.Type))
	v.str("repo.url.web", r.URL.Web)

	v.str("webhook.id", p.Webhook.ID)
	v.has("webhook.version", p.Webhook.Version != 0)

	if d := p.Discussion; d != nil {
		v.str("discussion.id", d.ID)
		v.has("discussion.num", seen.num)
		v.str("discussion.author.id", d.Author.ID)
		v.str("discussion.url.web", d.URL.Web)
		v.str("discussion.title", d.Title)
		v.has("discussion.isPullRequest", seen.isPullRequest)
		v.str("discussion.status", string(d.Status))
		if d.Changes != nil {
			v.str("discussion.changes.base", d.Changes.Base)
		}
	}
	if c := p.Comment; c != nil {
		v.str("comment.id", c.ID)
		v.str("comment.author.id", c.Author.ID)
		v.has("comment.hidden", seen.hidden)
		v.str("comment.url.web", c.URL.Web)
	}
	for i := range p.UpdatedRefs {
		if p.UpdatedRefs[i].Ref == "" {
			v.missing("updatedRefs[" + strconv.Itoa(i) + "].ref")
		}
	}
	if m := p.MovedTo; m != nil {
		v.str("movedTo.name", m.Name)
		v.str("movedTo.owner.id", m.Owner.ID)
	}
	if v.err != nil {
		return v.err
	}
	if p.Webhook.Version != supportedVersion {
		return &PayloadError{
			Kind:   ErrUnsupportedVersion,
			Field:  "webhook.version",
			Detail: fmt.Sprintf("got version %d, hfhooks decodes version %d", p.Webhook.Version, supportedVersion),
		}
	}
	return nil
}

// validator keeps the first missing field it is told about.
type validator struct{ err *PayloadError }

func (v *validator) str(path, value string) { v.has(path, value != "") }

func (v *validator) has(path string, ok bool) {
	if !ok {
		v.missing(path)
	}
}

func (v *validator) missing(path string) {
	if v.err == nil {
		v.err = &PayloadError{Kind: ErrInvalidPayload, Field: path, Detail: "required field is missing or empty"}
	}
}
