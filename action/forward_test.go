package action

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
)

// received is what a target server got.
type received struct {
	sum    [sha256.Size]byte
	header http.Header
}

// target starts a loopback server that answers with status and reports
// its first request on the returned channel.
func target(t *testing.T, status int) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		select {
		case got <- received{sum: sha256.Sum256(body), header: r.Header}:
		default:
		}
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"target says no"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestForward(t *testing.T) {
	d := delivery(t, "discussion.create", "")
	// Bytes a re-encoding would change: key order, spacing, escapes.
	d.Body = append([]byte(" "), d.Body...)
	d.Body = append(d.Body[:len(d.Body)-1], []byte(`, "x": "caf\u00e9 \u2028"}`+"\n")...)
	tests := []struct {
		name    string
		secret  string
		headers map[string]string
		want    map[string]string // headers the target must get; "" means absent
	}{
		{name: "plain", want: map[string]string{"Content-Type": "application/json", hfhooks.SecretHeader: ""}},
		{name: "headers and own secret", secret: "target-secret",
			headers: map[string]string{"Authorization": "Bearer tok", "X-Custom": "1"},
			want: map[string]string{"Authorization": "Bearer tok", "X-Custom": "1", hfhooks.SecretHeader: "target-secret",
				"Content-Type": "application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := target(t, http.StatusAccepted)
			v, err := Forward(Target{URL: srv.URL + "/hook", Headers: tt.headers, Secret: tt.secret})(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			if r := v.(*ForwardResult); *r != (ForwardResult{Status: "ok", StatusCode: http.StatusAccepted}) {
				t.Errorf("result = %+v", r)
			}
			r := <-got
			if r.sum != sha256.Sum256(d.Body) {
				t.Error("the target got other bytes than the delivery's body")
			}
			for k, want := range tt.want {
				if g := r.header.Get(k); g != want {
					t.Errorf("header %s = %q; want %q", k, g, want)
				}
			}
		})
	}
}

func TestForwardFailures(t *testing.T) {
	d := delivery(t, "repo.content", "")
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	defer redirect.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Once the body is read, the server notices the client leaving.
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer slow.Close()
	failing, _ := target(t, http.StatusInternalServerError)

	tests := []struct {
		name   string
		target Target
		want   string // the error's start
	}{
		{name: "non-2xx", target: Target{URL: failing.URL},
			want: "forward to " + failing.URL + `: 500 Internal Server Error: "{\"error\":\"target says no\"}"`},
		{name: "redirect", target: Target{URL: redirect.URL}, want: "forward to " + redirect.URL + ": 302 Found: "},
		{name: "connection refused", target: Target{URL: closed.URL}, want: "forward to " + closed.URL + ": dial tcp"},
		{name: "timeout", target: Target{URL: slow.URL, Timeout: 50 * time.Millisecond},
			want: "forward to " + slow.URL + ": context deadline exceeded"},
		{name: "password redacted", target: Target{URL: "http://user:pw@" + strings.TrimPrefix(failing.URL, "http://")},
			want: "forward to http://user:xxxxx@"},
		{name: "invalid URL", target: Target{URL: "http://h/%zz?token=abc"},
			want: `forward to http://h/%zz?token=xxxxx: invalid URL escape "%zz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Forward(tt.target)(context.Background(), d)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v; want it to start with %q", err, tt.want)
			}
		})
	}
}

// TestForwardErrorsHideSecrets checks that a forward's error shows neither
// the query values nor the password of the target's URL, and at most an
// excerpt of its answer.
func TestForwardErrorsHideSecrets(t *testing.T) {
	d := delivery(t, "repo.content", "")
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	long := strings.Repeat("a", maxErrorBody) + "THE-REST-OF-A-LONG-ANSWER"
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, long)
	}))
	defer failing.Close()

	tests := []struct {
		name, url, want string
	}{
		{name: "unreachable", url: closed.URL + "/hook?token=SEKRET&x=1",
			want: "forward to " + closed.URL + "/hook?token=xxxxx&x=xxxxx: dial tcp"},
		{name: "500 with a long answer", url: "http://u:SEKRET@" + strings.TrimPrefix(failing.URL, "http://") + "/hook?token=SEKRET",
			want: "forward to http://u:xxxxx@" + strings.TrimPrefix(failing.URL, "http://") + `/hook?token=xxxxx: 500 Internal Server Error: "` +
				strings.Repeat("a", maxErrorBody) + `"...`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Forward(Target{URL: tt.url})(context.Background(), d)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "SEKRET") || strings.Contains(msg, "THE-REST") {
				t.Errorf("err = %q; it shows a secret or more than the excerpt", msg)
			}
			if !strings.HasPrefix(msg, tt.want) {
				t.Errorf("err = %q; want it to start with %q", msg, tt.want)
			}
		})
	}
}
