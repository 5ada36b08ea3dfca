package redact

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"not a url", "not a url"},
		{"https://h.example/webhooks/x", "https://h.example/webhooks/x"},
		{"https://h.example/x?secret=abc", "https://h.example/x?secret=xxxxx"},
		{"https://h.example/x?a=1&token=abc&b=", "https://h.example/x?a=xxxxx&token=xxxxx&b="},
		{"https://h.example/x?flag&token=a=b", "https://h.example/x?flag&token=xxxxx"},
		{"https://h.example/x?t=a;b=c", "https://h.example/x?t=xxxxx"},
		{"https://h.example/cb#access_token=abc&state=1", "https://h.example/cb#access_token=xxxxx&state=xxxxx"},
		{"https://h.example/x?a=1#frag", "https://h.example/x?a=xxxxx#frag"},
		{"postgres://user:pw@db:5432/test?sslmode=disable", "postgres://user:xxxxx@db:5432/test?sslmode=xxxxx"},
		{"https://user@h.example/", "https://user@h.example/"},
		{"//u:pw@h.example/", "//u:xxxxx@h.example/"},
		{"/path//u:pw@h", "/path//u:pw@h"},
		{"https://u:p:q@h@h.example/", "https://u:xxxxx@h.example/"},
		{"https://user:pw@h.example?x=1", "https://user:xxxxx@h.example?x=xxxxx"},
		{"sqlite:queue.db?_pragma=key(abc)", "sqlite:queue.db?_pragma=xxxxx"},
		// What net/url rejects is redacted the same.
		{"http://[::1?token=abc", "http://[::1?token=xxxxx"},
		{"http://h/%zz?token=abc", "http://h/%zz?token=xxxxx"},
		{"http://u:p w@h/ x?token=a b", "http://u:xxxxx@h/ x?token=xxxxx"},
		{"/webhooks/x?secret=abc", "/webhooks/x?secret=xxxxx"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nothing to hide", "nothing to hide"},
		{"what? nothing", "what? nothing"},
		{`Post "http://127.0.0.1:1/x?token=abc": dial tcp 127.0.0.1:1: connect: connection refused`,
			`Post "http://127.0.0.1:1/x?token=xxxxx": dial tcp 127.0.0.1:1: connect: connection refused`},
		{"forward to https://u:pw@h/x?a=1&b=2: 500", "forward to https://u:xxxxx@h/x?a=xxxxx&b=xxxxx: 500"},
		{"two: http://a/?s=1 and <http://b/?t=2>", "two: http://a/?s=xxxxx and <http://b/?t=xxxxx>"},
		{`parse "http://h/?a=\"x&token=abc": bad`, `parse "http://h/?a=xxxxx&token=xxxxx": bad`},
		{"GET /webhooks/x?secret=abc 404", "GET /webhooks/x?secret=xxxxx 404"},
		{"'http://h/?secret=abc'", "'http://h/?secret=xxxxx'"},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestError(t *testing.T) {
	if Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
	inner := &url.Error{Op: "Post", URL: "http://h/x?token=SEKRET", Err: context.DeadlineExceeded}
	err := Error(fmt.Errorf("forward: %w", inner))
	if strings.Contains(err.Error(), "SEKRET") || !strings.Contains(err.Error(), "token=xxxxx") {
		t.Errorf("Error() = %q", err)
	}
	var uerr *url.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &uerr) {
		t.Error("errors.Is or errors.As do not see through the redacted error")
	}
	if Error(err) != err {
		t.Error("redacting a redacted error wraps it again")
	}
	if errors.Is(Error(fs.ErrNotExist), fs.ErrPermission) {
		t.Error("errors.Is holds for another error")
	}
}

// FuzzURL checks, on any input, that what follows '?' in the output is only
// names and masks, that the password is masked, and that redacting twice
// changes nothing.
func FuzzURL(f *testing.F) {
	for _, s := range []string{
		"https://h/x?secret=abc", "postgres://u:p@h/db?sslmode=disable", "http://[::1?token=a",
		"a?b=c#d=e", "://@?=#=", "http://u:p@h:1/p?a=1&a=2&b;c=3#x=y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := URL(raw)
		if again := URL(got); again != got {
			t.Fatalf("URL(%q) = %q, but URL of that = %q", raw, got, again)
		}
		rest := got
		if i := strings.IndexByte(rest, '#'); i >= 0 {
			checkParams(t, raw, got, rest[i+1:])
			rest = rest[:i]
		}
		if i := strings.IndexByte(rest, '?'); i >= 0 {
			checkParams(t, raw, got, rest[i+1:])
		}
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok && p != "" && p != Mask {
				gu, err := url.Parse(got)
				if err != nil {
					t.Fatalf("URL(%q) = %q, which does not parse: %v", raw, got, err)
				}
				if gp, _ := gu.User.Password(); gp != Mask {
					t.Fatalf("URL(%q) = %q: password %q not masked", raw, got, gp)
				}
			}
		}
	})
}

// checkParams fails unless every value of query is empty or Mask.
func checkParams(t *testing.T, raw, got, query string) {
	t.Helper()
	for _, p := range strings.Split(query, "&") {
		if _, v, _ := strings.Cut(p, "="); v != "" && v != Mask {
			t.Fatalf("URL(%q) = %q: value %q not masked", raw, got, v)
		}
	}
}

// FuzzSecretNeverShown puts a secret into the query of a URL inside a text
// and checks that the text, redacted, does not contain it.
func FuzzSecretNeverShown(f *testing.F) {
	f.Add("Post \"http://127.0.0.1:1/hook", "token", "abc", "\": dial tcp")
	f.Add("forward to https://u@h/x?a=1&", "secret", "s e c", ": 500")
	f.Add("GET /webhooks/x", "k", `x\"y`, " 404")
	f.Fuzz(func(t *testing.T, before, name, value, after string) {
		const secret = "SEKRET"
		if strings.Contains(before+name+after, secret) || strings.ContainsAny(before, "?#") {
			t.Skip()
		}
		// A URL in a text ends at a space or a quote, so the secret's value
		// must be quoted with %q when it has them, as *url.Error does.
		u := before + "?" + name + "=" + secret + value
		if !strings.HasPrefix(before, "/") && !strings.Contains(before, "://") {
			t.Skip()
		}
		if strings.ContainsAny(before+name, " \t\n\v\f\r\"'<>\\&=") || strings.ContainsAny(value, "&#") {
			t.Skip()
		}
		quoted := fmt.Sprintf("%q", u)
		text := "Post " + quoted + after
		if got := String(text); strings.Contains(got, secret) {
			t.Fatalf("String(%q) = %q shows the secret", text, got)
		}
		if got := URL(u); strings.Contains(got, secret) {
			t.Fatalf("URL(%q) = %q shows the secret", u, got)
		}
	})
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T000/B000/XXXXXXXX":      "https://hooks.slack.com/xxxxx",
		"https://discord.com/api/webhooks/123/abc-token?wait=true": "https://discord.com/xxxxx",
		"https://u:pw@chat.example/hooks/key":                      "https://u:xxxxx@chat.example/xxxxx",
		"https://chat.example?key=abc":                             "https://chat.example/xxxxx",
		"https://chat.example":                                     "https://chat.example",
		"not a url/secret":                                         "xxxxx",
		"":                                                         "xxxxx",
	} {
		if got := Origin(in); got != want {
			t.Errorf("Origin(%q) = %q, want %q", in, got, want)
		}
	}
}
