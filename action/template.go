package action

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"unicode/utf8"
)

// ParseTemplate parses text as the text of a comment or a message: a Go
// text/template executed on the delivery's *hfhooks.Payload, so that
// {{.Repo.Name}}, {{.Discussion.Num}} and {{.Comment.Content}} are the
// payload's fields. Besides text/template's own functions it has:
//
//	truncate N S  S cut to at most N characters, the last one "…" when cut:
//	              {{.Comment.Content | truncate 200}}
//	json V        V as JSON: {{json .Discussion.Title}}
//
// name names the template in errors, which give a line and column in
// text: `template: NAME:2:10: ...`.
func ParseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Funcs(template.FuncMap{
		"truncate": truncate,
		"json":     toJSON,
	}).Parse(text)
}

// truncate returns s cut to at most n characters, the last of them "…"
// when s was longer.
func truncate(n int, s string) string {
	if n < 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	if n == 0 {
		return ""
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// toJSON encodes v as JSON, without escaping <, > and &.
func toJSON(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// render executes t on data: a delivery's *hfhooks.Payload, or a
// GiveUpData.
func render(t *template.Template, data any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("rendering the text: %w", err)
	}
	return b.String(), nil
}
