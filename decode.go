package hfhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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
// It accepts what the Hub sends today and what it may add later: unknown
// fields are ignored, and unknown values of event.action, repo.type and
// discussion.status are kept as they are (see the Known methods). It rejects
// a body that is not a JSON object, a payload missing a required field and a
// webhook.version other than 3. Errors are *PayloadError.
func DecodePayload(body []byte) (*Payload, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &PayloadError{Kind: ErrInvalidJSON, Detail: "the request body is empty"}
	}
	p := new(Payload)
	if err := json.Unmarshal(body, p); err != nil {
		return nil, jsonError(err)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func jsonError(err error) *PayloadError {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return &PayloadError{Kind: ErrInvalidJSON, Detail: fmt.Sprintf("%v (at byte %d)", syntax, syntax.Offset)}
	case errors.As(err, &typ) && typ.Field == "":
		return &PayloadError{Kind: ErrInvalidPayload, Detail: fmt.Sprintf("the payload must be a JSON object, not %s", typ.Value)}
	case errors.As(err, &typ):
		// The aliases the UnmarshalJSON methods embed show up as "plain".
		field := strings.ReplaceAll(typ.Field, ".plain", "")
		return &PayloadError{Kind: ErrInvalidPayload, Field: field, Detail: fmt.Sprintf("expected %s, got %s", jsonKind(typ.Type.Kind().String()), typ.Value)}
	}
	return &PayloadError{Kind: ErrInvalidPayload, Detail: err.Error()}
}

// jsonKind names a Go kind as JSON does.
func jsonKind(goKind string) string {
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

// presence records which required non-string fields were present, since their
// zero value cannot tell "false" or 0 from "missing".
type presence uint8

const (
	hasPrivate presence = 1 << iota
	hasNum
	hasIsPullRequest
	hasHidden
)

// UnmarshalJSON decodes a repo and notes whether "private" was present.
func (r *Repo) UnmarshalJSON(b []byte) error {
	type plain Repo
	aux := struct {
		*plain
		Private *bool `json:"private"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if aux.Private != nil {
		r.Private, r.present = *aux.Private, r.present|hasPrivate
	}
	return nil
}

// UnmarshalJSON decodes a discussion and notes whether "num" and
// "isPullRequest" were present.
func (d *Discussion) UnmarshalJSON(b []byte) error {
	type plain Discussion
	aux := struct {
		*plain
		Num           *int  `json:"num"`
		IsPullRequest *bool `json:"isPullRequest"`
	}{plain: (*plain)(d)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if aux.Num != nil {
		d.Num, d.present = *aux.Num, d.present|hasNum
	}
	if aux.IsPullRequest != nil {
		d.IsPullRequest, d.present = *aux.IsPullRequest, d.present|hasIsPullRequest
	}
	return nil
}

// UnmarshalJSON decodes a comment and notes whether "hidden" was present.
func (c *Comment) UnmarshalJSON(b []byte) error {
	type plain Comment
	aux := struct {
		*plain
		Hidden *bool `json:"hidden"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if aux.Hidden != nil {
		c.Hidden, c.present = *aux.Hidden, c.present|hasHidden
	}
	return nil
}

// validate checks the required fields of spec §3.2 and the version.
func (p *Payload) validate() error {
	v := validator{}
	v.str("event.action", string(p.Event.Action))
	v.str("event.scope", p.Event.Scope)

	r := &p.Repo
	v.str("repo.id", r.ID)
	v.str("repo.owner.id", r.Owner.ID)
	v.str("repo.name", r.Name)
	v.has("repo.private", r.present&hasPrivate != 0)
	v.str("repo.type", string(r.Type))
	v.str("repo.url.web", r.URL.Web)

	v.str("webhook.id", p.Webhook.ID)
	v.has("webhook.version", p.Webhook.Version != 0)

	if d := p.Discussion; d != nil {
		v.str("discussion.id", d.ID)
		v.has("discussion.num", d.present&hasNum != 0)
		v.str("discussion.author.id", d.Author.ID)
		v.str("discussion.url.web", d.URL.Web)
		v.str("discussion.title", d.Title)
		v.has("discussion.isPullRequest", d.present&hasIsPullRequest != 0)
		v.str("discussion.status", string(d.Status))
		if d.Changes != nil {
			v.str("discussion.changes.base", d.Changes.Base)
		}
	}
	if c := p.Comment; c != nil {
		v.str("comment.id", c.ID)
		v.str("comment.author.id", c.Author.ID)
		v.has("comment.hidden", c.present&hasHidden != 0)
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
	if p.Webhook.Version != SupportedVersion {
		return &PayloadError{
			Kind:   ErrUnsupportedVersion,
			Field:  "webhook.version",
			Detail: fmt.Sprintf("got version %d, hfhooks decodes version %d", p.Webhook.Version, SupportedVersion),
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
