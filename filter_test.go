package hfhooks

import (
	"errors"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks/internal/sample"
)

// samplePayload decodes a sample event of kind with the overrides applied.
func samplePayload(t *testing.T, kind string, o sample.Options, overrides ...string) *Payload {
	t.Helper()
	body, err := sample.JSON(kind, o, overrides...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodePayload(body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFilterMatch(t *testing.T) {
	dataset := sample.Options{RepoType: "dataset", RepoName: "my-org/reviews"}
	tests := []struct {
		name      string
		filter    Filter
		kind      string
		opts      sample.Options
		overrides []string
		reason    string // empty: the payload matches
	}{
		{name: "empty filter matches everything", kind: "discussion.comment.update"},

		{name: "scope", filter: Filter{Scopes: []string{"repo.content"}}, kind: "repo.content"},
		{name: "scope mismatch", filter: Filter{Scopes: []string{"repo.content"}}, kind: "discussion.create",
			reason: `scope "discussion" not in [repo.content]`},
		{name: "narrower scope matches broader", filter: Filter{Scopes: []string{"repo"}}, kind: "repo.config"},
		{name: "future scope matches its parent", filter: Filter{Scopes: []string{"repo.config"}}, kind: "repo.config",
			overrides: []string{"event.scope=repo.config.dois"}},
		{name: "sibling scope does not match", filter: Filter{Scopes: []string{"repo.content"}}, kind: "repo.config",
			reason: `scope "repo.config" not in [repo.content]`},
		{name: "broader scope does not match narrower", filter: Filter{Scopes: []string{"discussion.comment"}}, kind: "discussion.create",
			reason: `scope "discussion" not in [discussion.comment]`},
		{name: "one of several scopes", filter: Filter{Scopes: []string{"discussion", "repo.content"}}, kind: "repo.content"},

		{name: "action", filter: Filter{Actions: []Action{ActionCreate}}, kind: "repo.create"},
		{name: "action mismatch", filter: Filter{Actions: []Action{ActionCreate, ActionDelete}}, kind: "repo.move",
			reason: `action "move" not in [create delete]`},
		{name: "new discussion", filter: Filter{Scopes: []string{"discussion"}, Actions: []Action{ActionCreate}}, kind: "discussion.create"},
		{name: "a new comment is an update of the discussion",
			filter: Filter{Scopes: []string{"discussion"}, Actions: []Action{ActionCreate}}, kind: "discussion.comment.create",
			reason: `action "update" not in [create] (create on discussion.comment counts as update on the filter's scope)`},
		{name: "a new comment on its own scope",
			filter: Filter{Scopes: []string{"discussion", "discussion.comment"}, Actions: []Action{ActionCreate}}, kind: "discussion.comment.create"},

		{name: "repo type", filter: Filter{RepoTypes: []RepoType{RepoDataset}}, kind: "repo.content", opts: dataset},
		{name: "repo type mismatch", filter: Filter{RepoTypes: []RepoType{RepoDataset, RepoSpace}}, kind: "repo.content",
			reason: `repo type "model" not in [dataset space]`},

		{name: "repo glob", filter: Filter{Repos: []string{"my-org/*"}}, kind: "repo.content", opts: dataset},
		{name: "repo exact", filter: Filter{Repos: []string{"my-org/reviews"}}, kind: "repo.content", opts: dataset},
		{name: "repo glob mismatch", filter: Filter{Repos: []string{"my-org/*", "*/bert-*"}}, kind: "repo.content",
			reason: `repo "acme/sentiment-model" does not match [my-org/* */bert-*]`},
		{name: "repo excluded", filter: Filter{Repos: []string{"my-org/*", "!my-org/rev*"}}, kind: "repo.content", opts: dataset,
			reason: `repo "my-org/reviews" does not match [my-org/* !my-org/rev*]`},
		{name: "only exclusions select the rest", filter: Filter{Repos: []string{"!acme/*"}}, kind: "repo.content", opts: dataset},

		{name: "ref", filter: Filter{Refs: []string{"refs/heads/main"}}, kind: "repo.content"},
		{name: "ref glob", filter: Filter{Refs: []string{"refs/heads/*"}}, kind: "repo.content",
			overrides: []string{"updatedRefs.0.ref=refs/heads/dev"}},
		{name: "ref star does not cross slashes", filter: Filter{Refs: []string{"refs/heads/*"}}, kind: "repo.content",
			overrides: []string{"updatedRefs.0.ref=refs/heads/feature/x"},
			reason:    `updated refs [refs/heads/feature/x] do not match [refs/heads/*]`},
		{name: "ref mismatch", filter: Filter{Refs: []string{"refs/heads/main"}}, kind: "repo.content",
			overrides: []string{"updatedRefs.0.ref=refs/pr/3"},
			reason:    `updated refs [refs/pr/3] do not match [refs/heads/main]`},
		{name: "one of several updated refs", filter: Filter{Refs: []string{"refs/tags/*"}}, kind: "repo.content",
			overrides: []string{`updatedRefs=[{"ref":"refs/heads/main","oldSha":null,"newSha":"a"},{"ref":"refs/tags/v1","oldSha":null,"newSha":"a"}]`}},
		{name: "ref excluded", filter: Filter{Refs: []string{"!refs/convert/*"}}, kind: "repo.content",
			overrides: []string{"updatedRefs.0.ref=refs/convert/parquet"},
			reason:    `updated refs [refs/convert/parquet] do not match [!refs/convert/*]`},
		{name: "ref not excluded", filter: Filter{Refs: []string{"!refs/convert/*"}}, kind: "repo.content"},
		{name: "no updated refs", filter: Filter{Refs: []string{"!refs/convert/*"}}, kind: "discussion.create",
			reason: `no updated refs to match [!refs/convert/*]`},

		{name: "pull request", filter: Filter{Kind: KindPullRequest}, kind: "discussion.create"},
		{name: "not a pull request", filter: Filter{Kind: KindPullRequest}, kind: "discussion.create",
			overrides: []string{"discussion.isPullRequest=false"},
			reason:    `kind "pr": the discussion is not a pull request`},
		{name: "discussion", filter: Filter{Kind: KindDiscussion}, kind: "discussion.comment.create",
			overrides: []string{"discussion.isPullRequest=false"}},
		{name: "not a discussion", filter: Filter{Kind: KindDiscussion}, kind: "discussion.comment.create",
			reason: `kind "discussion": the discussion is a pull request`},
		{name: "kind on a repo event", filter: Filter{Kind: KindDiscussion}, kind: "repo.content",
			reason: `kind "discussion": the event is not about a discussion`},

		{name: "all fields",
			filter: Filter{Scopes: []string{"repo.content"}, Actions: []Action{ActionUpdate}, RepoTypes: []RepoType{RepoDataset},
				Repos: []string{"my-org/*"}, Refs: []string{"refs/heads/main"}},
			kind: "repo.content", opts: dataset},
		{name: "all fields, first failure reported",
			filter: Filter{Scopes: []string{"repo.content"}, RepoTypes: []RepoType{RepoDataset}, Refs: []string{"refs/heads/main"}},
			kind:   "repo.content", overrides: []string{"updatedRefs.0.ref=refs/heads/dev"},
			reason: `repo type "model" not in [dataset]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.filter.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			p := samplePayload(t, tt.kind, tt.opts, tt.overrides...)
			ok, reason := tt.filter.Match(p)
			if ok != (tt.reason == "") || reason != tt.reason {
				t.Errorf("Match = %v, %q; want %v, %q", ok, reason, tt.reason == "", tt.reason)
			}
		})
	}
}

func TestFilterValidate(t *testing.T) {
	tests := []struct {
		name   string
		filter Filter
		want   []string // the messages, in order
	}{
		{name: "zero", filter: Filter{}},
		{name: "good", filter: Filter{Scopes: []string{"repo", "repo.config.dois"}, Actions: []Action{ActionUpdate},
			RepoTypes: []RepoType{RepoSpace}, Repos: []string{"*/*", "!acme/[a-c]*"}, Refs: []string{"refs/heads/main", "*/tags/v?", "!refs/convert/*"},
			Kind: KindPullRequest}},
		{name: "scopes", filter: Filter{Scopes: []string{"", "repo.", "repo..content"}}, want: []string{
			`scopes: invalid scope "" (scopes look like repo.content)`,
			`scopes: invalid scope "repo." (scopes look like repo.content)`,
			`scopes: invalid scope "repo..content" (scopes look like repo.content)`,
		}},
		{name: "actions and repo types", filter: Filter{Actions: []Action{"updte"}, RepoTypes: []RepoType{"datasets"}}, want: []string{
			`actions: unknown action "updte" (known: create, delete, move, update)`,
			`repoTypes: unknown repo type "datasets" (known: model, dataset, space)`,
		}},
		{name: "repos", filter: Filter{Repos: []string{"my-org/[", "my-org", "!", "a/b/*"}}, want: []string{
			`repos: bad pattern "my-org/[": syntax error in pattern`,
			`repos: pattern "my-org" never matches: repo names are "owner/name" and "*" does not match "/"`,
			`repos: empty pattern "!"`,
			`repos: pattern "a/b/*" never matches: repo names are "owner/name" and "*" does not match "/"`,
		}},
		{name: "refs", filter: Filter{Refs: []string{"main", "!refs/[convert/*", "refs/*", "heads/main/x"}}, want: []string{
			`refs: pattern "main" never matches: refs are full names such as "refs/heads/main"`,
			`refs: bad pattern "!refs/[convert/*": syntax error in pattern`,
			`refs: pattern "refs/*" never matches: refs are full names such as "refs/heads/main"`,
			`refs: pattern "heads/main/x" never matches: refs are full names such as "refs/heads/main"`,
		}},
		{name: "kind", filter: Filter{Kind: "PR"}, want: []string{`kind: unknown kind "PR" (known: pr, discussion)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.filter.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate: no error")
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("Validate:\n%s\nwant:\n%s", got, want)
			}
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Errorf("Validate: %T is not a *FilterError", err)
			}
		})
	}
}

func TestFilterErrorIndex(t *testing.T) {
	err := Filter{Refs: []string{"refs/heads/main", "refs/["}}.Validate()
	var fe *FilterError
	if !errors.As(err, &fe) || fe.Field != "refs" || fe.Index != 1 {
		t.Fatalf("Validate = %#v; want a *FilterError on refs[1]", err)
	}
}
