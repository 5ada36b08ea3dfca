package hfhooks

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// DiscussionKind selects pull requests or plain discussions in a Filter.
type DiscussionKind string

// The discussion kinds a Filter knows. The empty kind selects any payload.
const (
	KindAny         DiscussionKind = ""
	KindPullRequest DiscussionKind = "pr"
	KindDiscussion  DiscussionKind = "discussion"
)

// Filter selects the deliveries a hook acts on. Every field is optional and
// an empty one selects everything; the fields that are set must all match
// (AND). Within a list, one matching value is enough (OR).
//
// Repos and Refs hold glob patterns with path.Match syntax: "*" matches any
// run of characters except "/", "?" one character except "/", and "[...]" a
// class. So "my-org/*" matches every repo of my-org and "refs/heads/*" every
// branch whose name has no "/". A pattern starting with "!" excludes what it
// matches: a value is selected when it matches no excluding pattern and at
// least one of the others (or there are no others), so ["!refs/convert/*"]
// selects every ref but the Hub's own conversions.
//
// The JSON names of the fields are those of hooks.yaml.
type Filter struct {
	// Scopes are event scopes. As the Hub documents, an event on a narrower
	// scope counts as an update on each broader one (see Event.Matches):
	// "repo" selects repo.content and repo.config events too.
	Scopes []string `json:"scopes,omitempty"`
	// Actions are event actions. When Scopes is set, an event's action is
	// taken as seen from the matching scope (see Event.ActionOn): a comment
	// created (discussion.comment, create) is an update of a discussion, so
	// Scopes [discussion] with Actions [create] selects new discussions only.
	Actions []Action `json:"actions,omitempty"`
	// RepoTypes are repository types.
	RepoTypes []RepoType `json:"repoTypes,omitempty"`
	// Repos are glob patterns on the repository name, "owner/name".
	Repos []string `json:"repos,omitempty"`
	// Refs are glob patterns on the refs a content push updated
	// (updatedRefs[].ref, such as "refs/heads/main"). A payload matches when
	// at least one of its updated refs is selected; a payload without
	// updated refs does not match.
	Refs []string `json:"refs,omitempty"`
	// Kind selects pull requests or plain discussions; a payload without a
	// discussion does not match a Kind.
	Kind DiscussionKind `json:"kind,omitempty"`
}

// FilterError is a bad value in one field of a Filter.
type FilterError struct {
	// Field is the field's JSON name, such as "refs".
	Field string
	// Index is the value's index in the field's list (0 for Kind).
	Index int
	// Err says what is wrong with the value.
	Err error
}

func (e *FilterError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *FilterError) Unwrap() error { return e.Err }

// Validate checks every value of f and returns the problems found, joined
// (errors.Join), each a *FilterError. Unknown actions and repository types
// are refused here, although payloads may carry them: a filter value that
// can never match is a typo, not forward compatibility.
func (f Filter) Validate() error {
	var errs []error
	add := func(field string, i int, err error) {
		if err != nil {
			errs = append(errs, &FilterError{Field: field, Index: i, Err: err})
		}
	}
	for i, s := range f.Scopes {
		add("scopes", i, checkScope(s))
	}
	for i, a := range f.Actions {
		if !a.Known() {
			add("actions", i, fmt.Errorf("unknown action %q (known: create, delete, move, update)", a))
		}
	}
	for i, t := range f.RepoTypes {
		if !t.Known() {
			add("repoTypes", i, fmt.Errorf("unknown repo type %q (known: model, dataset, space)", t))
		}
	}
	for i, p := range f.Repos {
		add("repos", i, checkGlob(p, func(segments []string) error {
			if len(segments) != 2 {
				return errors.New(`never matches: repo names are "owner/name" and "*" does not match "/"`)
			}
			return nil
		}))
	}
	for i, p := range f.Refs {
		add("refs", i, checkGlob(p, func(segments []string) error {
			if ok, _ := path.Match(segments[0], "refs"); !ok || len(segments) < 3 {
				return errors.New(`never matches: refs are full names such as "refs/heads/main"`)
			}
			return nil
		}))
	}
	switch f.Kind {
	case KindAny, KindPullRequest, KindDiscussion:
	default:
		add("kind", 0, fmt.Errorf("unknown kind %q (known: pr, discussion)", f.Kind))
	}
	return errors.Join(errs...)
}

// checkScope refuses empty scopes and empty dotted segments.
func checkScope(s string) error {
	if slices.Contains(strings.Split(s, "."), "") {
		return fmt.Errorf("invalid scope %q (scopes look like repo.content)", s)
	}
	return nil
}

// checkGlob checks the syntax of a pattern, then its "/"-separated segments
// (without the leading "!") with shape.
func checkGlob(pattern string, shape func(segments []string) error) error {
	p := strings.TrimPrefix(pattern, "!")
	if p == "" {
		return fmt.Errorf("empty pattern %q", pattern)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("bad pattern %q: %w", pattern, err)
	}
	if err := shape(strings.Split(p, "/")); err != nil {
		return fmt.Errorf("pattern %q %w", pattern, err)
	}
	return nil
}

// Match reports whether p passes the filter. When it does not, reason says
// which field failed and why, such as
// `scope "discussion" not in [repo.content]`.
func (f Filter) Match(p *Payload) (ok bool, reason string) {
	e := p.Event
	if len(f.Scopes) > 0 && !slices.ContainsFunc(f.Scopes, e.Matches) {
		return false, fmt.Sprintf("scope %q not in %v", e.Scope, f.Scopes)
	}
	if len(f.Actions) > 0 && !f.matchAction(e) {
		if i := slices.IndexFunc(f.Scopes, e.Matches); i >= 0 {
			if a, _ := e.ActionOn(f.Scopes[i]); a != e.Action {
				return false, fmt.Sprintf("action %q not in %v (%s on %s counts as %s on the filter's scope)", a, f.Actions, e.Action, e.Scope, a)
			}
		}
		return false, fmt.Sprintf("action %q not in %v", e.Action, f.Actions)
	}
	if len(f.RepoTypes) > 0 && !slices.Contains(f.RepoTypes, p.Repo.Type) {
		return false, fmt.Sprintf("repo type %q not in %v", p.Repo.Type, f.RepoTypes)
	}
	if len(f.Repos) > 0 && !matchGlobs(f.Repos, p.Repo.Name) {
		return false, fmt.Sprintf("repo %q does not match %v", p.Repo.Name, f.Repos)
	}
	if len(f.Refs) > 0 {
		refs := make([]string, len(p.UpdatedRefs))
		for i, r := range p.UpdatedRefs {
			refs[i] = r.Ref
		}
		if len(refs) == 0 {
			return false, fmt.Sprintf("no updated refs to match %v", f.Refs)
		}
		if !slices.ContainsFunc(refs, func(r string) bool { return matchGlobs(f.Refs, r) }) {
			return false, fmt.Sprintf("updated refs %v do not match %v", refs, f.Refs)
		}
	}
	switch {
	case f.Kind == KindAny:
	case p.Discussion == nil:
		return false, fmt.Sprintf("kind %q: the event is not about a discussion", f.Kind)
	case p.Discussion.IsPullRequest != (f.Kind == KindPullRequest):
		if p.Discussion.IsPullRequest {
			return false, fmt.Sprintf("kind %q: the discussion is a pull request", f.Kind)
		}
		return false, fmt.Sprintf("kind %q: the discussion is not a pull request", f.Kind)
	}
	return true, ""
}

// matchAction reports whether the event's action, as seen from one of the
// scopes that match it (or as it is, without scopes), is in f.Actions.
func (f Filter) matchAction(e Event) bool {
	if len(f.Scopes) == 0 {
		return slices.Contains(f.Actions, e.Action)
	}
	for _, s := range f.Scopes {
		if a, ok := e.ActionOn(s); ok && slices.Contains(f.Actions, a) {
			return true
		}
	}
	return false
}

// matchGlobs reports whether s matches no excluding ("!") pattern and at
// least one including pattern, or there are no including patterns.
func matchGlobs(patterns []string, s string) bool {
	included, includes := false, false
	for _, p := range patterns {
		if neg, ok := strings.CutPrefix(p, "!"); ok {
			if m, _ := path.Match(neg, s); m {
				return false
			}
			continue
		}
		includes = true
		if m, _ := path.Match(p, s); m {
			included = true
		}
	}
	return included || !includes
}
