package hubtest_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
)

// discussionHub starts an emulator with three users: alice, who owns the
// acme org's repos, bob, a passer-by, and carol, a member of acme. A
// webhook of alice's watching acme delivers to the returned receiver, and a
// pull request acme/llm#5, opened by someone else, exists.
func discussionHub(t *testing.T) (*hubtest.Server, *receiver, map[string]*hub.Client) {
	t.Helper()
	h := newHub(t,
		hubtest.WithUser("hf_alice", hubtest.User{Name: "alice", Orgs: []string{"acme"}}),
		hubtest.WithUser("hf_bob", hubtest.User{Name: "bob", FullName: "Bob B."}),
		hubtest.WithUser("hf_carol", hubtest.User{Name: "carol", Orgs: []string{"acme"}}))
	clients := map[string]*hub.Client{}
	for _, name := range []string{"alice", "bob", "carol"} {
		clients[name] = client(t, h, "hf_"+name)
	}
	rcv := newReceiver(t, "")
	create(t, clients["alice"], hub.CreateWebhookOptions{URL: rcv.URL, Watched: []hub.WatchedItem{{Type: hub.WatchedOrg, Name: "acme"}}})
	emit(t, h, hubtest.Event{Kind: "discussion.create", Repo: "model:acme/llm", Set: map[string]string{"discussion.num": "5"}})
	idle(t, h)
	return h, rcv, clients
}

// last returns the receiver's last delivery, after waiting for the hub.
func last(t *testing.T, h *hubtest.Server, rcv *receiver) *hfhooks.Payload {
	t.Helper()
	idle(t, h)
	got := rcv.deliveries()
	if len(got) == 0 {
		t.Fatal("no delivery")
	}
	return got[len(got)-1].Payload
}

func TestDiscussionCommentEmitsEvent(t *testing.T) {
	t.Parallel()
	h, rcv, c := discussionHub(t)
	ref := hub.DiscussionRef{RepoID: "acme/llm", Num: 5}
	cm, err := c["bob"].CommentDiscussion(ctxT(t), ref, "Looks good to me")
	if err != nil {
		t.Fatal(err)
	}
	if cm.Author != "bob" || cm.Content != "Looks good to me" || cm.Type != "comment" || cm.ID == "" || cm.CreatedAt.IsZero() {
		t.Errorf("comment = %+v", cm)
	}
	p := last(t, h, rcv)
	if p.Event.Scope != "discussion.comment" || p.Event.Action != hfhooks.ActionCreate {
		t.Errorf("event = %+v, want discussion.comment create", p.Event)
	}
	if p.Comment == nil || p.Comment.ID != cm.ID || p.Comment.Author.ID != hubtest.UserID("bob") || p.Comment.Content != "Looks good to me" {
		t.Errorf("comment = %+v", p.Comment)
	}
	if p.Discussion.Num != 5 || p.Repo.Name != "acme/llm" || !p.Discussion.IsPullRequest {
		t.Errorf("discussion = %+v on %s", p.Discussion, p.Repo.Name)
	}
	d, ok := h.Discussion("model:acme/llm", 5)
	if !ok || len(d.Comments) != 2 || d.Comments[1].AuthorName != "bob" || d.Comments[1].Content != "Looks good to me" {
		t.Errorf("Discussion() = %+v, %v; want the opening comment and bob's", d, ok)
	}
}

func TestDiscussionStatusTitleMerge(t *testing.T) {
	t.Parallel()
	h, rcv, c := discussionHub(t)
	ctx := ctxT(t)
	ref := hub.DiscussionRef{RepoID: "acme/llm", Num: 5}

	sc, err := c["carol"].ChangeDiscussionStatus(ctx, ref, hub.StatusClosed, "Closing: stale")
	if err != nil {
		t.Fatal(err)
	}
	if sc.NewStatus != "closed" || sc.Author != "carol" {
		t.Errorf("status change = %+v", sc)
	}
	idle(t, h)
	got := rcv.deliveries()
	if n := len(got); n < 3 || got[n-2].Payload.Event.Scope != "discussion.comment" || got[n-2].Payload.Comment.Content != "Closing: stale" ||
		got[n-1].Payload.Event.Scope != "discussion" || got[n-1].Payload.Discussion.Status != hfhooks.StatusClosed {
		t.Errorf("deliveries after closing with a comment: want the comment, then discussion.update closed")
	}
	if _, err := c["carol"].ChangeDiscussionStatus(ctx, ref, hub.StatusOpen, ""); err != nil {
		t.Fatal(err)
	}
	if p := last(t, h, rcv); p.Discussion.Status != hfhooks.StatusOpen || p.Event.Action != hfhooks.ActionUpdate {
		t.Errorf("after reopening: %+v %+v", p.Event, p.Discussion)
	}

	tc, err := c["alice"].RenameDiscussion(ctx, ref, "Fix the card")
	if err != nil {
		t.Fatal(err)
	}
	if tc.OldTitle != "Update README.md" || tc.NewTitle != "Fix the card" {
		t.Errorf("title change = %+v", tc)
	}
	if p := last(t, h, rcv); p.Discussion.Title != "Fix the card" {
		t.Errorf("title in the event = %q", p.Discussion.Title)
	}

	if err := c["alice"].MergePullRequest(ctx, ref, ""); err != nil {
		t.Fatal(err)
	}
	p := last(t, h, rcv)
	if p.Discussion.Status != hfhooks.StatusMerged || p.Discussion.Changes == nil || len(p.Discussion.Changes.MergeCommitID) != 40 {
		t.Errorf("after merge: %+v", p.Discussion)
	}
	if err := c["alice"].MergePullRequest(ctx, ref, ""); !errors.Is(err, hub.ErrBadRequest) {
		t.Errorf("merging twice: %v, want a 400", err)
	}
}

func TestDiscussionEditHide(t *testing.T) {
	t.Parallel()
	h, rcv, c := discussionHub(t)
	ctx := ctxT(t)
	ref := hub.DiscussionRef{RepoID: "acme/llm", Num: 5}
	cm, err := c["bob"].CommentDiscussion(ctx, ref, "frist")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c["carol"].EditDiscussionComment(ctx, ref, cm.ID, "first"); !errors.Is(err, hub.ErrForbidden) {
		t.Errorf("editing another's comment: %v, want a 403", err)
	}
	ed, err := c["bob"].EditDiscussionComment(ctx, ref, cm.ID, "first")
	if err != nil {
		t.Fatal(err)
	}
	if !ed.Edited || ed.Content != "first" {
		t.Errorf("edited comment = %+v", ed)
	}
	if p := last(t, h, rcv); p.Event.Scope != "discussion.comment" || p.Event.Action != hfhooks.ActionUpdate || p.Comment.Content != "first" {
		t.Errorf("edit event = %+v %+v", p.Event, p.Comment)
	}
	hd, err := c["carol"].HideDiscussionComment(ctx, ref, cm.ID) // a member of acme may hide
	if err != nil {
		t.Fatal(err)
	}
	if !hd.Hidden || hd.Content != "" {
		t.Errorf("hidden comment = %+v", hd)
	}
	if p := last(t, h, rcv); !p.Comment.Hidden || p.Comment.Content != "" {
		t.Errorf("hide event comment = %+v", p.Comment)
	}
}

func TestDiscussionRefusals(t *testing.T) {
	t.Parallel()
	_, _, c := discussionHub(t)
	ctx := ctxT(t)
	pr := hub.DiscussionRef{RepoID: "acme/llm", Num: 5}
	tests := []struct {
		name string
		err  error
		call func() error
	}{
		{"unknown discussion", hub.ErrNotFound, func() error {
			_, err := c["bob"].CommentDiscussion(ctx, hub.DiscussionRef{RepoID: "acme/llm", Num: 6}, "x")
			return err
		}},
		{"other repo type", hub.ErrNotFound, func() error {
			_, err := c["bob"].CommentDiscussion(ctx, hub.DiscussionRef{RepoType: hub.RepoDataset, RepoID: "acme/llm", Num: 5}, "x")
			return err
		}},
		{"close as a passer-by", hub.ErrForbidden, func() error {
			_, err := c["bob"].ChangeDiscussionStatus(ctx, pr, hub.StatusClosed, "")
			return err
		}},
		{"rename as a passer-by", hub.ErrForbidden, func() error { _, err := c["bob"].RenameDiscussion(ctx, pr, "mine"); return err }},
		{"merge as a passer-by", hub.ErrForbidden, func() error { return c["bob"].MergePullRequest(ctx, pr, "") }},
		{"reopen an open one", hub.ErrBadRequest, func() error {
			_, err := c["alice"].ChangeDiscussionStatus(ctx, pr, hub.StatusOpen, "")
			return err
		}},
		{"unknown comment", hub.ErrNotFound, func() error { _, err := c["alice"].HideDiscussionComment(ctx, pr, "0123"); return err }},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, tt.err) {
			t.Errorf("%s: error = %v, want %v", tt.name, err, tt.err)
		}
	}
}

func TestWhoami(t *testing.T) {
	t.Parallel()
	h := newHub(t, hubtest.WithUser("hf_carol", hubtest.User{Name: "carol", FullName: "Carol C.", Orgs: []string{"acme", "beta"}}))
	u, err := client(t, h, "hf_carol").Whoami(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != hubtest.UserID("carol") || u.Name != "carol" || u.FullName != "Carol C." || u.Type != "user" {
		t.Errorf("Whoami() = %+v", u)
	}
	var orgs []string
	for _, o := range u.Orgs {
		orgs = append(orgs, o.Name)
	}
	if !reflect.DeepEqual(orgs, []string{"acme", "beta"}) {
		t.Errorf("orgs = %v", orgs)
	}
	if _, err := client(t, h, "hf_nobody").Whoami(ctxT(t)); !errors.Is(err, hub.ErrUnauthorized) {
		t.Errorf("Whoami() with an unknown token: %v, want a 401", err)
	}
}
