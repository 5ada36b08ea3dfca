package sample_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/sample"
)

// fixed returns options that give the same payload on every run.
func fixed(seed uint64) sample.Options {
	return sample.Options{
		Rand: rand.New(rand.NewPCG(seed, seed)),
		Now:  time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC),
	}
}

func decode(t *testing.T, kind string, o sample.Options, overrides ...string) *hfhooks.Payload {
	t.Helper()
	body, err := sample.JSON(kind, o, overrides...)
	if err != nil {
		t.Fatalf("JSON(%q): %v", kind, err)
	}
	p, err := hfhooks.DecodePayload(body)
	if err != nil {
		t.Fatalf("DecodePayload(JSON(%q)): %v\n%s", kind, err, body)
	}
	return p
}

func TestKindsDecode(t *testing.T) {
	tests := []struct {
		kind, scope string
		action      hfhooks.Action
		check       func(t *testing.T, p *hfhooks.Payload)
	}{
		{"repo.create", "repo", hfhooks.ActionCreate, nil},
		{"repo.update", "repo", hfhooks.ActionUpdate, nil},
		{"repo.delete", "repo", hfhooks.ActionDelete, nil},
		{"repo.move", "repo", hfhooks.ActionMove, func(t *testing.T, p *hfhooks.Payload) {
			if p.MovedTo == nil || p.MovedTo.Name == p.Repo.Name || p.MovedTo.Owner.ID == "" {
				t.Errorf("movedTo = %+v, want a new name for %s", p.MovedTo, p.Repo.Name)
			}
		}},
		{"repo.content", "repo.content", hfhooks.ActionUpdate, func(t *testing.T, p *hfhooks.Payload) {
			if len(p.UpdatedRefs) != 1 {
				t.Fatalf("updatedRefs = %+v, want one ref", p.UpdatedRefs)
			}
			r := p.UpdatedRefs[0]
			if r.Ref != "refs/heads/main" || r.OldSha == "" || r.OldSha == r.NewSha || r.NewSha != p.Repo.HeadSha {
				t.Errorf("updatedRefs[0] = %+v, want refs/heads/main moved from an old sha to headSha %s", r, p.Repo.HeadSha)
			}
		}},
		{"repo.config", "repo.config", hfhooks.ActionUpdate, func(t *testing.T, p *hfhooks.Payload) {
			if p.UpdatedConfig["private"] != true || !p.Repo.Private {
				t.Errorf("updatedConfig = %v, repo.private = %v; want the repo made private", p.UpdatedConfig, p.Repo.Private)
			}
		}},
		{"discussion.create", "discussion", hfhooks.ActionCreate, func(t *testing.T, p *hfhooks.Payload) {
			if p.Comment == nil || p.Comment.Content == "" || p.Comment.Hidden {
				t.Fatalf("comment = %+v, want the first comment with content", p.Comment)
			}
			if p.Comment.Author != p.Discussion.Author {
				t.Errorf("comment author %s, want the discussion's author %s", p.Comment.Author.ID, p.Discussion.Author.ID)
			}
			if p.Discussion.Status != hfhooks.StatusOpen {
				t.Errorf("discussion.status = %s, want open", p.Discussion.Status)
			}
		}},
		{"discussion.update", "discussion", hfhooks.ActionUpdate, func(t *testing.T, p *hfhooks.Payload) {
			if p.Comment != nil {
				t.Errorf("comment = %+v, want none", p.Comment)
			}
			if p.Discussion.Status != hfhooks.StatusMerged || p.Discussion.Changes.MergeCommitID == "" {
				t.Errorf("discussion = %+v, want a merged PR with mergeCommitId", p.Discussion)
			}
		}},
		{"discussion.comment.create", "discussion.comment", hfhooks.ActionCreate, func(t *testing.T, p *hfhooks.Payload) {
			if p.Comment == nil || p.Comment.Content == "" || p.Comment.Hidden {
				t.Errorf("comment = %+v, want a visible comment with content", p.Comment)
			}
		}},
		{"discussion.comment.update", "discussion.comment", hfhooks.ActionUpdate, func(t *testing.T, p *hfhooks.Payload) {
			if p.Comment == nil || !p.Comment.Hidden || p.Comment.Content != "" {
				t.Errorf("comment = %+v, want a hidden comment without content", p.Comment)
			}
		}},
	}
	if got, want := len(tests), len(sample.Kinds()); got != want {
		t.Errorf("%d kinds tested, Kinds() has %d", got, want)
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			if sample.Summary(tt.kind) == "" {
				t.Errorf("Summary(%q) is empty", tt.kind)
			}
			body, err := sample.JSON(tt.kind, fixed(1))
			if err != nil {
				t.Fatal(err)
			}
			// Content must be absent, not empty, on a hidden comment.
			if tt.kind == "discussion.comment.update" && bytes.Contains(body, []byte(`"content"`)) {
				t.Errorf("hidden comment has a content key:\n%s", body)
			}
			p := decode(t, tt.kind, fixed(1))
			if p.Event.Scope != tt.scope || p.Event.Action != tt.action {
				t.Errorf("event = %+v, want action %s on scope %s", p.Event, tt.action, tt.scope)
			}
			repoScope := p.Event.Matches(hfhooks.ScopeRepo)
			if hasSha := p.Repo.HeadSha != ""; hasSha != repoScope {
				t.Errorf("repo.headSha = %q on scope %s; want it on repo scopes only", p.Repo.HeadSha, p.Event.Scope)
			}
			if isDiscussion := p.Discussion != nil; isDiscussion != p.Event.Matches(hfhooks.ScopeDiscussion) {
				t.Errorf("discussion = %+v on scope %s; want it on discussion scopes only", p.Discussion, p.Event.Scope)
			}
			if p.Discussion != nil && (!p.Discussion.IsPullRequest || p.Discussion.Changes == nil || p.Discussion.Changes.Base != "refs/heads/main") {
				t.Errorf("discussion = %+v, want a PR onto refs/heads/main", p.Discussion)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

var (
	hubID = regexp.MustCompile(`^[0-9a-f]{24}$`)
	sha   = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

func TestIDsLookLikeTheHubs(t *testing.T) {
	for _, kind := range sample.Kinds() {
		p := decode(t, kind, sample.Options{})
		ids := map[string]string{"repo.id": p.Repo.ID, "repo.owner.id": p.Repo.Owner.ID, "webhook.id": p.Webhook.ID}
		shas := map[string]string{"repo.headSha": p.Repo.HeadSha}
		if d := p.Discussion; d != nil {
			ids["discussion.id"], ids["discussion.author.id"] = d.ID, d.Author.ID
			shas["discussion.changes.mergeCommitId"] = d.Changes.MergeCommitID
		}
		if c := p.Comment; c != nil {
			ids["comment.id"], ids["comment.author.id"] = c.ID, c.Author.ID
		}
		if m := p.MovedTo; m != nil {
			ids["movedTo.owner.id"] = m.Owner.ID
		}
		for _, r := range p.UpdatedRefs {
			shas["updatedRefs.oldSha"], shas["updatedRefs.newSha"] = r.OldSha, r.NewSha
		}
		for field, id := range ids {
			if !hubID.MatchString(id) {
				t.Errorf("%s: %s = %q, want 24 lowercase hex digits", kind, field, id)
			}
		}
		for field, s := range shas {
			if s != "" && !sha.MatchString(s) {
				t.Errorf("%s: %s = %q, want 40 lowercase hex digits", kind, field, s)
			}
		}
	}
}

func TestIDsBeginWithTheirCreationTime(t *testing.T) {
	o := fixed(1)
	p := decode(t, "discussion.create", o)
	if got, want := p.Discussion.ID[:8], fmt.Sprintf("%08x", o.Now.Unix()); got != want {
		t.Errorf("discussion.id %s begins with %s, want the time of the event %s", p.Discussion.ID, got, want)
	}
	if p.Comment.ID <= p.Discussion.ID || p.Comment.ID[:8] != p.Discussion.ID[:8] {
		t.Errorf("comment.id %s, want it created right after discussion.id %s", p.Comment.ID, p.Discussion.ID)
	}
	if p.Repo.ID[:8] >= p.Discussion.ID[:8] {
		t.Errorf("repo.id %s, want it created before the discussion %s", p.Repo.ID, p.Discussion.ID)
	}
}

func TestRepoTypes(t *testing.T) {
	tests := []struct {
		typ, name           string
		web, api, subdomain string
	}{
		{"", "", "https://huggingface.co/acme/sentiment-model", "https://huggingface.co/api/models/acme/sentiment-model", ""},
		{"model", "Some_User/My.Model", "https://huggingface.co/Some_User/My.Model", "https://huggingface.co/api/models/Some_User/My.Model", ""},
		{"dataset", "", "https://huggingface.co/datasets/acme/product-reviews", "https://huggingface.co/api/datasets/acme/product-reviews", ""},
		{"dataset", "org/data", "https://huggingface.co/datasets/org/data", "https://huggingface.co/api/datasets/org/data", ""},
		{"space", "", "https://huggingface.co/spaces/acme/sentiment-demo", "https://huggingface.co/api/spaces/acme/sentiment-demo", "acme-sentiment-demo"},
		{"space", "Wauplin/gradio_user.History", "https://huggingface.co/spaces/Wauplin/gradio_user.History", "https://huggingface.co/api/spaces/Wauplin/gradio_user.History", "wauplin-gradio-user-history"},
	}
	for _, tt := range tests {
		t.Run(tt.typ+":"+tt.name, func(t *testing.T) {
			o := fixed(2)
			o.RepoType, o.RepoName = tt.typ, tt.name
			p := decode(t, "discussion.comment.create", o)
			wantType := hfhooks.RepoType(tt.typ)
			if tt.typ == "" {
				wantType = hfhooks.RepoModel
			}
			if p.Repo.Type != wantType {
				t.Errorf("repo.type = %s, want %s", p.Repo.Type, wantType)
			}
			if p.Repo.URL.Web != tt.web || p.Repo.URL.API != tt.api {
				t.Errorf("repo.url = %+v, want web %s, api %s", p.Repo.URL, tt.web, tt.api)
			}
			if p.Repo.Subdomain != tt.subdomain {
				t.Errorf("repo.subdomain = %q, want %q", p.Repo.Subdomain, tt.subdomain)
			}
			if !strings.HasSuffix(tt.web, "/"+p.Repo.Name) {
				t.Errorf("repo.name = %s, not the end of %s", p.Repo.Name, tt.web)
			}
			path := fmt.Sprintf("/discussions/%d", p.Discussion.Num)
			if d := p.Discussion.URL; d.Web != tt.web+path || d.API != tt.api+path {
				t.Errorf("discussion.url = %+v, want web %s, api %s", d, tt.web+path, tt.api+path)
			}
			if c := p.Comment.URL; c.Web != tt.web+path+"#"+p.Comment.ID || c.API != "" {
				t.Errorf("comment.url = %+v, want web %s only", c, tt.web+path+"#"+p.Comment.ID)
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name      string
		kind      string
		o         sample.Options
		overrides []string
		want      []string // substrings of the error
	}{
		{"unknown kind", "repo.rename", sample.Options{}, nil, append([]string{`unknown kind "repo.rename"`}, sample.Kinds()...)},
		{"unknown repo type", "repo.create", sample.Options{RepoType: "bucket"}, nil, []string{`"bucket"`, "model, dataset, space"}},
		{"name without owner", "repo.create", sample.Options{RepoName: "gpt2"}, nil, []string{`"gpt2"`, "owner/name"}},
		{"name with two slashes", "repo.create", sample.Options{RepoName: "a/b/c"}, nil, []string{`"a/b/c"`, "owner/name"}},
		{"empty owner", "repo.create", sample.Options{RepoName: "/b"}, nil, []string{`"/b"`}},
		{"override without =", "repo.create", sample.Options{}, []string{"repo.private"}, []string{`"repo.private"`, "path=value"}},
		{"bad override path", "repo.create", sample.Options{}, []string{"repo.name.x=1"}, []string{`"repo.name.x"`, "repo.name is a string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sample.JSON(tt.kind, tt.o, tt.overrides...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
