// Package sample builds realistic version 3 Hugging Face Hub webhook payloads
// for testing receivers: "hfhooks trigger", the receiver's landing page test
// form and the Hub emulator all build their events here.
//
// Payloads are JSON object trees (map[string]any, []any and scalars) rather
// than hfhooks.Payload values, so that callers can override any field, or
// add one the Go types do not know, with Set before encoding. The package
// does not import hfhooks, which imports it.
package sample

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Options say which repo and what randomness to use; the zero value is fine.
type Options struct {
	// RepoType is "model" (the default), "dataset" or "space".
	RepoType string
	// RepoName is "owner/name"; the default depends on RepoType:
	// "acme/sentiment-model", "acme/product-reviews" or "acme/sentiment-demo".
	RepoName string
	// WebhookID is the id of the sending webhook; the default is a random
	// Hub-like id.
	WebhookID string
	// Rand is the source of every random id and sha; nil means a randomly
	// seeded source. Tests pass a seeded one for reproducible output.
	Rand *rand.Rand
	// Now is when the event happens; the zero value means time.Now(). The
	// Hub's ids are MongoDB ObjectIDs, which begin with their creation time,
	// so ids are derived from it.
	Now time.Time
}

// repoTypes are the repository types, with the repo used when
// Options.RepoName is empty and the URL path prefixes (models have none on
// the web).
var repoTypes = map[string]struct{ defaultName, web, api string }{
	"model":   {defaultName: "acme/sentiment-model", web: "", api: "models/"},
	"dataset": {defaultName: "acme/product-reviews", web: "datasets/", api: "datasets/"},
	"space":   {defaultName: "acme/sentiment-demo", web: "spaces/", api: "spaces/"},
}

// hubURL is the Hub the sample URLs point to.
const hubURL = "https://huggingface.co/"

// kind is one kind of event Build knows.
type kind struct {
	name    string
	summary string
	// fill adds the kind's parts to a payload holding event, repo and webhook.
	fill func(b *builder, p map[string]any)
}

// kinds are the kinds Build knows, in the order Kinds lists them.
var kinds = []kind{
	{"repo.create", "a repository was created", nil},
	{"repo.update", "a repository was updated", nil},
	{"repo.delete", "a repository was deleted", nil},
	{"repo.move", "a repository was renamed or moved (with movedTo)", (*builder).fillMove},
	{"repo.content", "commits were pushed to main (with headSha and updatedRefs)", (*builder).fillContent},
	{"repo.config", "the repository was made private (with updatedConfig)", (*builder).fillConfig},
	{"discussion.create", "a pull request was opened, with its first comment", (*builder).fillDiscussionCreate},
	{"discussion.update", "a pull request was merged (status change, no comment)", (*builder).fillDiscussionUpdate},
	{"discussion.comment.create", "a comment was posted on a pull request", (*builder).fillCommentCreate},
	{"discussion.comment.update", "a comment was hidden (hidden, without content)", (*builder).fillCommentUpdate},
}

// Kinds lists the kinds Build knows, in a stable order.
func Kinds() []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.name
	}
	return names
}

// Summary describes kind in a few words, for help texts and forms. It is
// empty for a kind Build does not know.
func Summary(kind string) string {
	if k, ok := lookup(kind); ok {
		return k.summary
	}
	return ""
}

func lookup(name string) (kind, bool) {
	for _, k := range kinds {
		if k.name == name {
			return k, true
		}
	}
	return kind{}, false
}

// Build returns the payload of kind as a JSON object tree (map[string]any),
// so that callers can override fields with Set before encoding.
//
// The event scope is kind without its last dotted segment and the action is
// that segment: "discussion.comment.create" is action "create" on scope
// "discussion.comment". "repo.content" and "repo.config" are scopes whose
// only action is "update", as the Hub documents them.
func Build(kind string, o Options) (map[string]any, error) {
	k, ok := lookup(kind)
	if !ok {
		return nil, fmt.Errorf("unknown kind %q (valid kinds: %s)", kind, strings.Join(Kinds(), ", "))
	}
	b, err := newBuilder(o)
	if err != nil {
		return nil, err
	}
	scope, action := scopeAction(k.name)

	webhookID := o.WebhookID
	if webhookID == "" {
		webhookID = b.id(b.ago(24*time.Hour, 90*24*time.Hour)).String()
	}
	p := map[string]any{
		"event":   map[string]any{"action": action, "scope": scope},
		"repo":    b.repo(),
		"webhook": map[string]any{"id": webhookID, "version": 3},
	}
	// The Hub sends headSha only on repo scopes, not on community events.
	if scope == "repo" || strings.HasPrefix(scope, "repo.") {
		p["repo"].(map[string]any)["headSha"] = b.sha()
	}
	if k.fill != nil {
		k.fill(b, p)
	}
	return p, nil
}

// scopeAction splits a kind into its event scope and action.
func scopeAction(kind string) (scope, action string) {
	i := strings.LastIndexByte(kind, '.')
	switch action := kind[i+1:]; action {
	case "create", "delete", "move", "update":
		return kind[:i], action
	}
	return kind, "update"
}

// builder draws the random parts of one payload.
type builder struct {
	r      *rand.Rand
	now    time.Time
	typ    string
	name   string // the repo name, "owner/name"
	web    string // the repo web URL
	api    string // the repo API URL
	userID string // the repo owner's id, also the author of the sample PRs
}

func newBuilder(o Options) (*builder, error) {
	b := &builder{r: o.Rand, now: o.Now, typ: o.RepoType, name: o.RepoName}
	if b.r == nil {
		b.r = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if b.now.IsZero() {
		b.now = time.Now()
	}
	if b.typ == "" {
		b.typ = "model"
	}
	rt, ok := repoTypes[b.typ]
	if !ok {
		return nil, fmt.Errorf("unknown repo type %q (valid types: model, dataset, space)", b.typ)
	}
	if b.name == "" {
		b.name = rt.defaultName
	}
	owner, repo, ok := strings.Cut(b.name, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("repo name %q: want owner/name, for example %s", b.name, rt.defaultName)
	}
	b.web = hubURL + rt.web + b.name
	b.api = hubURL + "api/" + rt.api + b.name
	b.userID = b.id(b.ago(365*24*time.Hour, 3*365*24*time.Hour)).String()
	return b, nil
}

// objectID is a Hub id: a MongoDB ObjectID, 12 bytes printed as 24 hex
// digits, beginning with its creation time in Unix seconds.
type objectID struct {
	sec  uint32
	rest uint64
}

func (id objectID) String() string { return fmt.Sprintf("%08x%016x", id.sec, id.rest) }

// next is the id created right after id by the same process, as the first
// comment of a new discussion is.
func (id objectID) next() objectID { return objectID{sec: id.sec, rest: id.rest + 1} }

// id returns a random id created at t.
func (b *builder) id(t time.Time) objectID {
	return objectID{sec: uint32(t.Unix()), rest: b.r.Uint64()}
}

// ago returns a random time between lo and hi before now.
func (b *builder) ago(lo, hi time.Duration) time.Time {
	return b.now.Add(-lo - time.Duration(b.r.Int64N(int64(hi-lo))))
}

// sha returns a random 40-hex-digit git sha.
func (b *builder) sha() string {
	return fmt.Sprintf("%016x%016x%08x", b.r.Uint64(), b.r.Uint64(), b.r.Uint32())
}

func (b *builder) repo() map[string]any {
	repo := map[string]any{
		"id":      b.id(b.ago(30*24*time.Hour, 365*24*time.Hour)).String(),
		"name":    b.name,
		"owner":   map[string]any{"id": b.userID},
		"private": false,
		"type":    b.typ,
		"url":     map[string]any{"web": b.web, "api": b.api},
	}
	if b.typ == "space" {
		repo["subdomain"] = subdomain(b.name)
	}
	return repo
}

// subdomain is the hf.space subdomain of a Space: its full name, lowercased,
// with every other character than a letter or a digit turned into "-".
func subdomain(name string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(name))
}

func (b *builder) fillMove(p map[string]any) {
	p["movedTo"] = map[string]any{
		"name":  b.name + "-v2",
		"owner": map[string]any{"id": b.userID},
	}
}

func (b *builder) fillContent(p map[string]any) {
	p["updatedRefs"] = []any{map[string]any{
		"ref":    "refs/heads/main",
		"oldSha": b.sha(),
		"newSha": p["repo"].(map[string]any)["headSha"],
	}}
}

func (b *builder) fillConfig(p map[string]any) {
	p["repo"].(map[string]any)["private"] = true
	p["updatedConfig"] = map[string]any{"private": true}
}

func (b *builder) fillDiscussionCreate(p map[string]any) {
	id := b.id(b.now)
	d := b.discussion(id, "open")
	p["discussion"] = d
	p["comment"] = comment(id.next(), d, b.userID, "This PR fixes the usage example in README.md and adds the missing license field.")
}

func (b *builder) fillDiscussionUpdate(p map[string]any) {
	d := b.discussion(b.id(b.ago(time.Hour, 14*24*time.Hour)), "merged")
	d["changes"].(map[string]any)["mergeCommitId"] = b.sha()
	p["discussion"] = d
}

func (b *builder) fillCommentCreate(p map[string]any) {
	d := b.discussion(b.id(b.ago(time.Hour, 14*24*time.Hour)), "open")
	p["discussion"] = d
	reviewer := b.id(b.ago(365*24*time.Hour, 3*365*24*time.Hour)).String()
	p["comment"] = comment(b.id(b.now), d, reviewer, "Thanks! Could you also bump the version in the metadata?")
}

func (b *builder) fillCommentUpdate(p map[string]any) {
	d := b.discussion(b.id(b.ago(time.Hour, 14*24*time.Hour)), "open")
	p["discussion"] = d
	reviewer := b.id(b.ago(365*24*time.Hour, 3*365*24*time.Hour)).String()
	p["comment"] = comment(b.id(b.ago(time.Minute, time.Hour)), d, reviewer, "")
}

// discussion returns a pull request on the repo, authored by the repo owner,
// whose id is id and status is status.
func (b *builder) discussion(id objectID, status string) map[string]any {
	num := 1 + b.r.IntN(60)
	path := "/discussions/" + strconv.Itoa(num)
	return map[string]any{
		"id":            id.String(),
		"num":           num,
		"author":        map[string]any{"id": b.userID},
		"title":         "Update README.md",
		"isPullRequest": true,
		"status":        status,
		"changes":       map[string]any{"base": "refs/heads/main"},
		"url": map[string]any{
			"web": b.web + path,
			"api": b.api + path,
		},
	}
}

// comment returns a comment on discussion d. An empty content gives a hidden
// comment, which the Hub sends without content.
func comment(id objectID, d map[string]any, authorID, content string) map[string]any {
	c := map[string]any{
		"id":     id.String(),
		"author": map[string]any{"id": authorID},
		"hidden": content == "",
		"url":    map[string]any{"web": d["url"].(map[string]any)["web"].(string) + "#" + id.String()},
	}
	if content != "" {
		c["content"] = content
	}
	return c
}
