package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// RepoType is the type of a repository: model, dataset or space.
type RepoType string

// The repository types.
const (
	RepoModel   RepoType = "model"
	RepoDataset RepoType = "dataset"
	RepoSpace   RepoType = "space"
)

// DiscussionRef names a discussion or pull request: its repository and its
// number.
type DiscussionRef struct {
	// RepoType is the repository's type; empty means [RepoModel].
	RepoType RepoType
	// RepoID is the repository, as "owner/name".
	RepoID string
	// Num is the discussion's number, 1 or more.
	Num int
}

// String returns the discussion as "TYPE:OWNER/NAME#NUM".
func (r DiscussionRef) String() string {
	return fmt.Sprintf("%s:%s#%d", r.repoType(), r.RepoID, r.Num)
}

func (r DiscussionRef) repoType() RepoType {
	if r.RepoType == "" {
		return RepoModel
	}
	return r.RepoType
}

// path returns the API path of resource on the discussion, checking the
// reference first. The repository's segments are escaped, and may not be
// "." or "..", so that they cannot reach another path.
func (r DiscussionRef) path(resource string) (string, error) {
	switch t := r.repoType(); t {
	case RepoModel, RepoDataset, RepoSpace:
	default:
		return "", &ArgumentError{Arg: "repo_type", Problem: fmt.Sprintf("invalid type %q; valid types: model, dataset, space", t)}
	}
	owner, name, ok := strings.Cut(r.RepoID, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") || dotSegment(owner) || dotSegment(name) {
		return "", &ArgumentError{Arg: "repo_id", Problem: fmt.Sprintf("%q is not owner/name", r.RepoID)}
	}
	if r.Num <= 0 {
		return "", &ArgumentError{Arg: "discussion_num", Problem: "must be a positive number"}
	}
	return "/api/" + string(r.repoType()) + "s/" + url.PathEscape(owner) + "/" + url.PathEscape(name) +
		"/discussions/" + strconv.Itoa(r.Num) + "/" + resource, nil
}

// DiscussionStatus is the status of a discussion or pull request, as
// [Client.ChangeDiscussionStatus] sets it.
type DiscussionStatus string

// The statuses a discussion can be given.
const (
	StatusOpen   DiscussionStatus = "open"
	StatusClosed DiscussionStatus = "closed"
)

// DiscussionEvent is what happened on a discussion, as the Hub reports it:
// a comment, a status change, a title change...
type DiscussionEvent struct {
	// ID is the Hub's id of the event.
	ID string
	// Type is "comment", "status-change", "title-change", "commit"...
	Type string
	// CreatedAt is when the event happened; zero when the Hub's answer
	// does not say.
	CreatedAt time.Time
	// Author is the user name of who caused it; "deleted" when the Hub
	// does not say.
	Author string
}

// DiscussionComment is a comment on a discussion.
type DiscussionComment struct {
	DiscussionEvent
	// Content is the comment's raw Markdown; empty once hidden.
	Content string
	// Edited and Hidden report whether the comment was edited, hidden.
	Edited bool
	Hidden bool
}

// DiscussionStatusChange is the change of a discussion's status.
type DiscussionStatusChange struct {
	DiscussionEvent
	// NewStatus is the status the discussion now has: open, closed or
	// merged.
	NewStatus string
}

// DiscussionTitleChange is the renaming of a discussion.
type DiscussionTitleChange struct {
	DiscussionEvent
	OldTitle, NewTitle string
}

// wireEvent is a discussion event as the Hub encodes it; huggingface_hub's
// deserialize_event reads the same fields.
type wireEvent struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	CreatedAt string `json:"createdAt"`
	Author    *struct {
		Name string `json:"name"`
	} `json:"author"`
	Data struct {
		Edited bool `json:"edited"`
		Hidden bool `json:"hidden"`
		Latest struct {
			Raw string `json:"raw"`
		} `json:"latest"`
		Status string `json:"status"`
		From   string `json:"from"`
		To     string `json:"to"`
	} `json:"data"`
}

func (w *wireEvent) event() DiscussionEvent {
	e := DiscussionEvent{ID: w.ID, Type: w.Type, Author: "deleted"}
	e.CreatedAt, _ = time.Parse(time.RFC3339Nano, w.CreatedAt)
	if w.Author != nil && w.Author.Name != "" {
		e.Author = w.Author.Name
	}
	return e
}

func (w *wireEvent) comment() *DiscussionComment {
	return &DiscussionComment{DiscussionEvent: w.event(), Content: w.Data.Latest.Raw, Edited: w.Data.Edited, Hidden: w.Data.Hidden}
}

// discussionCall POSTs body to resource of the discussion and returns the
// event the answer holds under key. It is never retried: the Hub could have
// acted on a request whose answer was lost, and a comment must not be
// posted twice. For the same reason, a 2xx answer is a success even when
// the event in it cannot be read: the event is then empty.
func (c *Client) discussionCall(ctx context.Context, ref DiscussionRef, resource string, body any, key string) (*wireEvent, error) {
	path, err := ref.path(resource)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, c.do(ctx, http.MethodPost, path, body, nil, false)
	}
	var raw []byte
	if err := c.do(ctx, http.MethodPost, path, body, &raw, false); err != nil {
		return nil, err
	}
	// Best effort: the Hub has acted, whatever its answer says.
	var answer map[string]json.RawMessage
	var ev wireEvent
	if json.Unmarshal(raw, &answer) == nil {
		_ = json.Unmarshal(answer[key], &ev)
	}
	return &ev, nil
}

// CommentDiscussion posts a comment, in Markdown, on a discussion or pull
// request (POST /api/{type}s/{repo}/discussions/{num}/comment), as
// huggingface_hub's comment_discussion does. It is never retried.
func (c *Client) CommentDiscussion(ctx context.Context, ref DiscussionRef, comment string) (*DiscussionComment, error) {
	if strings.TrimSpace(comment) == "" {
		return nil, &ArgumentError{Arg: "comment", Problem: "the comment is empty"}
	}
	ev, err := c.discussionCall(ctx, ref, "comment", map[string]string{"comment": comment}, "newMessage")
	if err != nil {
		return nil, err
	}
	return ev.comment(), nil
}

// ChangeDiscussionStatus closes or reopens a discussion or pull request
// (POST .../discussions/{num}/status), with a comment when comment is not
// blank, as huggingface_hub's change_discussion_status does. It is never
// retried.
func (c *Client) ChangeDiscussionStatus(ctx context.Context, ref DiscussionRef, status DiscussionStatus, comment string) (*DiscussionStatusChange, error) {
	if status != StatusOpen && status != StatusClosed {
		return nil, &ArgumentError{Arg: "new_status", Problem: fmt.Sprintf("invalid status %q; valid statuses: open, closed", status)}
	}
	body := map[string]string{"status": string(status)}
	if comment = strings.TrimSpace(comment); comment != "" {
		body["comment"] = comment
	}
	ev, err := c.discussionCall(ctx, ref, "status", body, "newStatus")
	if err != nil {
		return nil, err
	}
	return &DiscussionStatusChange{DiscussionEvent: ev.event(), NewStatus: ev.Data.Status}, nil
}

// RenameDiscussion changes the title of a discussion or pull request (POST
// .../discussions/{num}/title), as huggingface_hub's rename_discussion does.
// It is never retried.
func (c *Client) RenameDiscussion(ctx context.Context, ref DiscussionRef, title string) (*DiscussionTitleChange, error) {
	if strings.TrimSpace(title) == "" {
		return nil, &ArgumentError{Arg: "new_title", Problem: "the title is empty"}
	}
	ev, err := c.discussionCall(ctx, ref, "title", map[string]string{"title": title}, "newTitle")
	if err != nil {
		return nil, err
	}
	return &DiscussionTitleChange{DiscussionEvent: ev.event(), OldTitle: ev.Data.From, NewTitle: ev.Data.To}, nil
}

// MergePullRequest merges a pull request (POST .../discussions/{num}/merge),
// with a comment when comment is not blank, as huggingface_hub's
// merge_pull_request does. It is never retried.
func (c *Client) MergePullRequest(ctx context.Context, ref DiscussionRef, comment string) error {
	var body any
	if comment = strings.TrimSpace(comment); comment != "" {
		body = map[string]string{"comment": comment}
	}
	_, err := c.discussionCall(ctx, ref, "merge", body, "")
	return err
}

// EditDiscussionComment replaces the content of a comment (POST
// .../discussions/{num}/comment/{id}/edit), as huggingface_hub's
// edit_discussion_comment does. It is never retried.
func (c *Client) EditDiscussionComment(ctx context.Context, ref DiscussionRef, commentID, content string) (*DiscussionComment, error) {
	resource, err := commentResource(commentID, "edit")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(content) == "" {
		return nil, &ArgumentError{Arg: "new_content", Problem: "the content is empty"}
	}
	ev, err := c.discussionCall(ctx, ref, resource, map[string]string{"content": content}, "updatedComment")
	if err != nil {
		return nil, err
	}
	return ev.comment(), nil
}

// HideDiscussionComment hides a comment, for good: its content cannot be
// read any more (POST .../discussions/{num}/comment/{id}/hide), as
// huggingface_hub's hide_discussion_comment does. It is never retried.
func (c *Client) HideDiscussionComment(ctx context.Context, ref DiscussionRef, commentID string) (*DiscussionComment, error) {
	resource, err := commentResource(commentID, "hide")
	if err != nil {
		return nil, err
	}
	ev, err := c.discussionCall(ctx, ref, resource, nil, "updatedComment")
	if err != nil {
		return nil, err
	}
	return ev.comment(), nil
}

// commentResource is the resource of verb on comment id, lowercased as
// huggingface_hub sends it.
func commentResource(id, verb string) (string, error) {
	if id == "" {
		return "", &ArgumentError{Arg: "comment_id", Problem: "a comment id is required"}
	}
	if dotSegment(id) {
		return "", &ArgumentError{Arg: "comment_id", Problem: fmt.Sprintf("invalid comment id %q", id)}
	}
	return "comment/" + url.PathEscape(strings.ToLower(id)) + "/" + verb, nil
}

// dotSegment reports whether s is a path segment that the server would
// resolve against the ones before it: escaping leaves "." and ".." as they
// are.
func dotSegment(s string) bool { return s == "." || s == ".." }
