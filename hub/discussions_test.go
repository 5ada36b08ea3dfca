package hub

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// commentEventJSON is a comment event as the Hub answers it.
const commentEventJSON = `{"id": "6650a1c2d3e4f5a6b7c8d9e0", "type": "comment", "createdAt": "2026-12-02T10:00:00.000Z",
  "author": {"_id": "61d2000c3c2083e1c08af22d", "name": "hf-bot", "type": "user"},
  "data": {"edited": false, "hidden": false, "latest": {"raw": "Thanks!", "html": "<p>Thanks!</p>"}, "numEdits": 0}}`

var commentCreated = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func TestDiscussionCalls(t *testing.T) {
	ref := DiscussionRef{RepoType: RepoDataset, RepoID: "acme/reviews", Num: 7}
	comment := &DiscussionComment{
		DiscussionEvent: DiscussionEvent{ID: "6650a1c2d3e4f5a6b7c8d9e0", Type: "comment", CreatedAt: commentCreated, Author: "hf-bot"},
		Content:         "Thanks!",
	}
	tests := []struct {
		name     string
		path     string
		body     string // the request body; "" means none
		answer   string
		call     func(*Client) (any, error)
		want     any
		wantNone bool // the method returns only an error
	}{
		{
			name: "comment", path: "/api/datasets/acme/reviews/discussions/7/comment",
			body: `{"comment": "Thanks!"}`, answer: `{"newMessage": ` + commentEventJSON + `}`,
			call: func(c *Client) (any, error) { return c.CommentDiscussion(t.Context(), ref, "Thanks!") },
			want: comment,
		},
		{
			name: "status with comment", path: "/api/datasets/acme/reviews/discussions/7/status",
			body:   `{"status": "closed", "comment": "Stale."}`,
			answer: `{"newStatus": {"id": "e1", "type": "status-change", "createdAt": "2026-12-02T10:00:00Z", "author": {"name": "hf-bot"}, "data": {"status": "closed"}}}`,
			call: func(c *Client) (any, error) {
				return c.ChangeDiscussionStatus(t.Context(), ref, StatusClosed, "  Stale.\n")
			},
			want: &DiscussionStatusChange{DiscussionEvent: DiscussionEvent{ID: "e1", Type: "status-change", CreatedAt: commentCreated, Author: "hf-bot"}, NewStatus: "closed"},
		},
		{
			name: "status without comment", path: "/api/datasets/acme/reviews/discussions/7/status",
			body:   `{"status": "open"}`,
			answer: `{"newStatus": {"id": "e2", "type": "status-change", "createdAt": "2026-12-02T10:00:00Z", "data": {"status": "open"}}}`,
			call: func(c *Client) (any, error) {
				return c.ChangeDiscussionStatus(t.Context(), ref, StatusOpen, " ")
			},
			want: &DiscussionStatusChange{DiscussionEvent: DiscussionEvent{ID: "e2", Type: "status-change", CreatedAt: commentCreated, Author: "deleted"}, NewStatus: "open"},
		},
		{
			name: "title", path: "/api/datasets/acme/reviews/discussions/7/title",
			body:   `{"title": "Fix the card"}`,
			answer: `{"newTitle": {"id": "e3", "type": "title-change", "createdAt": "2026-12-02T10:00:00Z", "author": {"name": "alice"}, "data": {"from": "Update README.md", "to": "Fix the card"}}}`,
			call: func(c *Client) (any, error) {
				return c.RenameDiscussion(t.Context(), ref, "Fix the card")
			},
			want: &DiscussionTitleChange{DiscussionEvent: DiscussionEvent{ID: "e3", Type: "title-change", CreatedAt: commentCreated, Author: "alice"}, OldTitle: "Update README.md", NewTitle: "Fix the card"},
		},
		{
			name: "merge", path: "/api/datasets/acme/reviews/discussions/7/merge",
			body: `{"comment": "Merged, thanks"}`, answer: `{}`,
			call: func(c *Client) (any, error) {
				return nil, c.MergePullRequest(t.Context(), ref, "Merged, thanks")
			},
			wantNone: true,
		},
		{
			name: "merge without comment", path: "/api/datasets/acme/reviews/discussions/7/merge",
			call: func(c *Client) (any, error) {
				return nil, c.MergePullRequest(t.Context(), ref, "")
			},
			wantNone: true,
		},
		{
			name: "edit", path: "/api/datasets/acme/reviews/discussions/7/comment/6650a1c2d3e4f5a6b7c8d9e0/edit",
			body: `{"content": "Thanks!"}`, answer: `{"updatedComment": ` + commentEventJSON + `}`,
			call: func(c *Client) (any, error) {
				return c.EditDiscussionComment(t.Context(), ref, "6650A1C2D3E4F5A6B7C8D9E0", "Thanks!")
			},
			want: comment,
		},
		{
			name: "hide", path: "/api/datasets/acme/reviews/discussions/7/comment/6650a1c2d3e4f5a6b7c8d9e0/hide",
			answer: `{"updatedComment": {"id": "6650a1c2d3e4f5a6b7c8d9e0", "type": "comment", "createdAt": "2026-12-02T10:00:00Z", "author": {"name": "hf-bot"}, "data": {"edited": false, "hidden": true, "latest": {"raw": ""}}}}`,
			call: func(c *Client) (any, error) {
				return c.HideDiscussionComment(t.Context(), ref, "6650a1c2d3e4f5a6b7c8d9e0")
			},
			want: &DiscussionComment{DiscussionEvent: comment.DiscussionEvent, Hidden: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, "POST")
				if r.URL.EscapedPath() != tt.path {
					t.Errorf("path = %s, want %s", r.URL.EscapedPath(), tt.path)
				}
				testHeaders(t, r, tt.body != "")
				testBody(t, r, tt.body)
				fmt.Fprint(w, tt.answer)
			})
			got, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.wantNone && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDiscussionModelPathAndEscaping(t *testing.T) {
	c, mux := setup(t)
	var path string
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.EscapedPath()
		fmt.Fprint(w, `{"newMessage": `+commentEventJSON+`}`)
	})
	if _, err := c.CommentDiscussion(t.Context(), DiscussionRef{RepoID: "acme/a b", Num: 1}, "hi"); err != nil {
		t.Fatal(err)
	}
	if want := "/api/models/acme/a%20b/discussions/1/comment"; path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
}

func TestDiscussionArguments(t *testing.T) {
	c, _ := setup(t)
	ok := DiscussionRef{RepoID: "acme/model", Num: 1}
	tests := []struct {
		arg  string
		call func() error
	}{
		{"repo_id", func() error {
			_, err := c.CommentDiscussion(t.Context(), DiscussionRef{RepoID: "acme", Num: 1}, "x")
			return err
		}},
		{"repo_id", func() error {
			_, err := c.CommentDiscussion(t.Context(), DiscussionRef{RepoID: "acme/a/../b", Num: 1}, "x")
			return err
		}},
		{"repo_id", func() error {
			_, err := c.CommentDiscussion(t.Context(), DiscussionRef{RepoID: "acme/..", Num: 1}, "x")
			return err
		}},
		{"repo_id", func() error {
			_, err := c.CommentDiscussion(t.Context(), DiscussionRef{RepoID: "../settings", Num: 1}, "x")
			return err
		}},
		{"repo_id", func() error {
			_, err := c.CommentDiscussion(t.Context(), DiscussionRef{RepoID: "./b", Num: 1}, "x")
			return err
		}},
		{"comment_id", func() error { _, err := c.HideDiscussionComment(t.Context(), ok, ".."); return err }},
		{"repo_type", func() error {
			_, err := c.CommentDiscussion(t.Context(), DiscussionRef{RepoType: "kernel", RepoID: "a/b", Num: 1}, "x")
			return err
		}},
		{"discussion_num", func() error {
			_, err := c.CommentDiscussion(t.Context(), DiscussionRef{RepoID: "a/b"}, "x")
			return err
		}},
		{"comment", func() error { _, err := c.CommentDiscussion(t.Context(), ok, " \n"); return err }},
		{"new_status", func() error { _, err := c.ChangeDiscussionStatus(t.Context(), ok, "merged", ""); return err }},
		{"new_title", func() error { _, err := c.RenameDiscussion(t.Context(), ok, ""); return err }},
		{"comment_id", func() error { _, err := c.HideDiscussionComment(t.Context(), ok, ""); return err }},
		{"new_content", func() error { _, err := c.EditDiscussionComment(t.Context(), ok, "c1", ""); return err }},
	}
	for _, tt := range tests {
		var ae *ArgumentError
		if err := tt.call(); !errors.As(err, &ae) || ae.Arg != tt.arg {
			t.Errorf("error = %v, want an ArgumentError about %s", err, tt.arg)
		}
	}
}

// TestDiscussionPostsNotRetried checks that the discussion POSTs are sent
// once, even on answers other calls retry: the Hub may have acted on them.
func TestDiscussionPostsNotRetried(t *testing.T) {
	ref := DiscussionRef{RepoID: "acme/model", Num: 3}
	calls := map[string]func(*Client) error{
		"comment": func(c *Client) error { _, err := c.CommentDiscussion(t.Context(), ref, "x"); return err },
		"status": func(c *Client) error {
			_, err := c.ChangeDiscussionStatus(t.Context(), ref, StatusClosed, "")
			return err
		},
		"title": func(c *Client) error { _, err := c.RenameDiscussion(t.Context(), ref, "t"); return err },
		"merge": func(c *Client) error { return c.MergePullRequest(t.Context(), ref, "") },
		"edit":  func(c *Client) error { _, err := c.EditDiscussionComment(t.Context(), ref, "c1", "x"); return err },
		"hide":  func(c *Client) error { _, err := c.HideDiscussionComment(t.Context(), ref, "c1"); return err },
	}
	for name, call := range calls {
		for _, status := range []int{429, 502, 503, 504} {
			c, mux := setup(t)
			var n atomic.Int32
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(status)
			})
			if err := call(c); err == nil {
				t.Errorf("%s on %d: no error", name, status)
			}
			if n.Load() != 1 {
				t.Errorf("%s on %d: %d requests, want 1", name, status, n.Load())
			}
		}
	}
}

func TestDiscussionErrors(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/models/acme/model/discussions/3/comment", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Error-Message", "You don't have the rights to comment")
		w.WriteHeader(http.StatusForbidden)
	})
	mux.HandleFunc("/api/models/acme/model/discussions/4/comment", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"something": {}}`)
	})
	mux.HandleFunc("/api/models/acme/model/discussions/5/comment", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html>OK</html>`)
	})
	_, err := c.CommentDiscussion(t.Context(), DiscussionRef{RepoID: "acme/model", Num: 3}, "x")
	var he *Error
	if !errors.As(err, &he) || !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), `"discussions" permission`) {
		t.Errorf("error = %v, want a 403 *Error with the discussions hint", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error shows the token: %v", err)
	}
	// The Hub acted: an answer without the event is not an error, which a
	// caller could retry, posting the comment twice.
	for _, num := range []int{4, 5} {
		got, err := c.CommentDiscussion(t.Context(), DiscussionRef{RepoID: "acme/model", Num: num}, "x")
		if err != nil || got.ID != "" {
			t.Errorf("CommentDiscussion() = %+v, %v; want an empty comment, no error", got, err)
		}
	}
}

func TestWhoami(t *testing.T) {
	c, mux := setup(t)
	var n atomic.Int32
	mux.HandleFunc("/api/whoami-v2", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		testHeaders(t, r, false)
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // a GET is retried
			return
		}
		fmt.Fprint(w, `{"type": "user", "id": "61d2000c3c2083e1c08af22d", "name": "hf-bot", "fullname": "The Bot",
		  "orgs": [{"type": "org", "id": "5e67bd5b1009063689407478", "name": "acme", "fullname": "Acme", "roleInOrg": "write"}],
		  "auth": {"type": "access_token", "accessToken": {"displayName": "bot", "role": "write"}}}`)
	})
	got, err := c.Whoami(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := &User{ID: "61d2000c3c2083e1c08af22d", Name: "hf-bot", FullName: "The Bot", Type: "user",
		Orgs: []Org{{ID: "5e67bd5b1009063689407478", Name: "acme", FullName: "Acme", RoleInOrg: "write"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Whoami() = %+v, want %+v", got, want)
	}
}
