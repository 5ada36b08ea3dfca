package hfhooks

import "strings"

// Action is what happened to the object named by an event's scope.
// Values the Hub may add later are kept as they are; see Action.Known.
type Action string

// The actions the Hub sends today.
const (
	ActionCreate Action = "create"
	ActionDelete Action = "delete"
	ActionMove   Action = "move"
	ActionUpdate Action = "update"
)

// Known reports whether a is one of the actions documented by the Hub.
func (a Action) Known() bool {
	switch a {
	case ActionCreate, ActionDelete, ActionMove, ActionUpdate:
		return true
	}
	return false
}

// RepoType is the kind of repository an event is about.
type RepoType string

// The repository types the Hub sends today.
const (
	RepoModel   RepoType = "model"
	RepoDataset RepoType = "dataset"
	RepoSpace   RepoType = "space"
)

// Known reports whether t is one of the repository types documented by the Hub.
func (t RepoType) Known() bool {
	switch t {
	case RepoModel, RepoDataset, RepoSpace:
		return true
	}
	return false
}

// DiscussionStatus is the state of a discussion or pull request.
type DiscussionStatus string

// The discussion statuses the Hub sends today.
const (
	StatusOpen   DiscussionStatus = "open"
	StatusClosed DiscussionStatus = "closed"
	StatusDraft  DiscussionStatus = "draft"
	StatusMerged DiscussionStatus = "merged"
)

// Known reports whether s is one of the discussion statuses documented by the Hub.
func (s DiscussionStatus) Known() bool {
	switch s {
	case StatusOpen, StatusClosed, StatusDraft, StatusMerged:
		return true
	}
	return false
}

// The scopes documented by the Hub. Scope is a free string on the wire: the
// Hub may add narrower scopes at any time (see Event.Matches).
const (
	ScopeRepo              = "repo"
	ScopeRepoContent       = "repo.content"
	ScopeRepoConfig        = "repo.config"
	ScopeDiscussion        = "discussion"
	ScopeDiscussionComment = "discussion.comment"
)

// supportedVersion is the only webhook payload version this package decodes.
const supportedVersion = 3

// Payload is a version 3 webhook payload, as the Hub POSTs it.
// Optional parts are nil when absent.
type Payload struct {
	Event      Event       `json:"event"`
	Repo       Repo        `json:"repo"`
	Discussion *Discussion `json:"discussion,omitempty"`
	Comment    *Comment    `json:"comment,omitempty"`
	Webhook    WebhookRef  `json:"webhook"`
	MovedTo    *MovedTo    `json:"movedTo,omitempty"`
	// UpdatedRefs lists the refs a content push changed (scope repo.content).
	UpdatedRefs []UpdatedRef `json:"updatedRefs,omitempty"`
	// UpdatedConfig holds the changed settings (scope repo.config); empty when
	// the Hub does not report the changed key. huggingface_hub drops it.
	UpdatedConfig map[string]any `json:"updatedConfig,omitempty"`
}

// Event says what happened: an action on a scope.
type Event struct {
	Action Action `json:"action"`
	Scope  string `json:"scope"`
}

// ObjectID identifies a Hub object (a user, an organization, a comment...).
type ObjectID struct {
	ID string `json:"id"`
}

// URL holds the web and API addresses of an object. API is empty for comments.
type URL struct {
	Web string `json:"web"`
	API string `json:"api,omitempty"`
}

// Repo is the repository an event is about. It is present in every payload.
type Repo struct {
	ID        string   `json:"id"`
	Owner     ObjectID `json:"owner"`
	Name      string   `json:"name"`
	Private   bool     `json:"private"`
	Type      RepoType `json:"type"`
	URL       URL      `json:"url"`
	Subdomain string   `json:"subdomain,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	// HeadSha is the latest commit on main; sent only on repo scopes.
	// huggingface_hub reads it from a wrong key and always gets None.
	HeadSha string `json:"headSha,omitempty"`
}

// Discussion is the discussion or pull request of a community event.
type Discussion struct {
	ID            string             `json:"id"`
	Num           int                `json:"num"`
	Author        ObjectID           `json:"author"`
	URL           URL                `json:"url"`
	Title         string             `json:"title"`
	IsPullRequest bool               `json:"isPullRequest"`
	Status        DiscussionStatus   `json:"status"`
	Changes       *DiscussionChanges `json:"changes,omitempty"`
	Pinned        *bool              `json:"pinned,omitempty"`
}

// DiscussionChanges describes a pull request's target.
type DiscussionChanges struct {
	Base          string `json:"base"`
	MergeCommitID string `json:"mergeCommitId,omitempty"`
}

// Comment is the comment of a discussion.comment event, or the first comment
// of a new discussion. Content is empty when Hidden is true.
type Comment struct {
	ID      string   `json:"id"`
	Author  ObjectID `json:"author"`
	Hidden  bool     `json:"hidden"`
	Content string   `json:"content,omitempty"`
	URL     URL      `json:"url"`
}

// WebhookRef names the webhook that sent the payload.
type WebhookRef struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// MovedTo is the new name of a repository after a move.
type MovedTo struct {
	Name  string   `json:"name"`
	Owner ObjectID `json:"owner"`
}

// UpdatedRef is one ref changed by a push. OldSha is empty for a new ref and
// NewSha is empty for a deleted one (both are null on the wire).
type UpdatedRef struct {
	Ref    string `json:"ref"`
	OldSha string `json:"oldSha"`
	NewSha string `json:"newSha"`
}

// Matches reports whether the event falls under scope, following the Hub's
// forward-compatibility rule: an event on a narrower scope counts as an event
// on each broader one. "repo.config.dois" matches "repo.config" and "repo",
// not "repo.content".
func (e Event) Matches(scope string) bool {
	return e.Scope == scope || strings.HasPrefix(e.Scope, scope+".")
}

// ActionOn returns the action to act on for a handler that understands
// scope. When the event is exactly on scope, it is the event's own action.
// When the event is on a narrower scope (one the handler may not know), it is
// ActionUpdate, as the Hub's documentation says to treat it. ok is false when
// the event does not fall under scope at all.
func (e Event) ActionOn(scope string) (action Action, ok bool) {
	switch {
	case e.Scope == scope:
		return e.Action, true
	case e.Matches(scope):
		return ActionUpdate, true
	}
	return "", false
}

// IsPullRequest reports whether the payload is about a pull request.
func (p *Payload) IsPullRequest() bool {
	return p.Discussion != nil && p.Discussion.IsPullRequest
}
