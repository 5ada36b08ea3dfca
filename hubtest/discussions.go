package hubtest

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/internal/sample"
)

// Discussion is a discussion or pull request of the emulated Hub, as the
// events and the discussion API left it. Read one with [Hub.Discussion].
type Discussion struct {
	// Repo is the repository as "TYPE:NAME"; Num the discussion's number.
	Repo string
	Num  int
	ID   string
	// Title, Status ("open", "closed", "merged", "draft") and
	// IsPullRequest are the discussion's.
	Title         string
	Status        string
	IsPullRequest bool
	// AuthorID is the id of the user who opened it.
	AuthorID string
	// Comments are its comments, oldest first.
	Comments []Comment
}

// Comment is a comment of a [Discussion].
type Comment struct {
	ID string
	// AuthorID is the author's id: the id a webhook payload gives as
	// comment.author.id. AuthorName is empty for a comment that came from
	// an emitted event, whose author the Hub knows only by id.
	AuthorID   string
	AuthorName string
	// Content is the comment's Markdown; empty once hidden.
	Content string
	Edited  bool
	Hidden  bool
	Created time.Time
}

// UserID returns the id the Hub gives the user named name, as payloads
// name authors (comment.author.id) and GET /api/whoami-v2 answers.
func UserID(name string) string { return accountID("user", name) }

// discussion is the state of one discussion; h.mu guards it.
type discussion struct {
	Discussion
	base          string // a pull request's target ref
	mergeCommitID string
}

// Discussion returns the discussion num of repo ("TYPE:NAME", for example
// "model:acme/llm"), when an event or the discussion API made it.
func (h *Hub) Discussion(repo string, num int) (Discussion, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.discussions[discussionKey(repo, num)]
	if d == nil {
		return Discussion{}, false
	}
	out := d.Discussion
	out.Comments = slices.Clone(d.Comments)
	return out, true
}

func discussionKey(repo string, num int) string { return repo + "#" + strconv.Itoa(num) }

// recordDiscussionLocked keeps the discussion, and the comment, of an
// emitted payload, so that the discussion API can act on them; h.mu must be
// held. A payload without a discussion (or with one the overrides made
// unreadable) records nothing.
func (h *Hub) recordDiscussionLocked(repo string, tree map[string]any) {
	dm, _ := tree["discussion"].(map[string]any)
	num, err := strconv.Atoi(fmt.Sprint(dm["num"]))
	if dm == nil || err != nil || num <= 0 {
		return
	}
	str := func(m map[string]any, key string) string { s, _ := m[key].(string); return s }
	authorOf := func(m map[string]any) string { a, _ := m["author"].(map[string]any); return str(a, "id") }
	key := discussionKey(repo, num)
	d := h.discussions[key]
	if d == nil {
		d = &discussion{Discussion: Discussion{Repo: repo, Num: num}}
		h.discussions[key] = d
	}
	d.ID, d.Title, d.Status, d.AuthorID = str(dm, "id"), str(dm, "title"), str(dm, "status"), authorOf(dm)
	d.IsPullRequest, _ = dm["isPullRequest"].(bool)
	if ch, ok := dm["changes"].(map[string]any); ok {
		d.base, d.mergeCommitID = str(ch, "base"), str(ch, "mergeCommitId")
	}
	cm, _ := tree["comment"].(map[string]any)
	id := str(cm, "id")
	if id == "" {
		return
	}
	i := slices.IndexFunc(d.Comments, func(c Comment) bool { return c.ID == id })
	if i < 0 {
		d.Comments = append(d.Comments, Comment{ID: id, AuthorID: authorOf(cm), Created: time.Now()})
		i = len(d.Comments) - 1
	}
	c := &d.Comments[i]
	c.Hidden, _ = cm["hidden"].(bool)
	if content := str(cm, "content"); content != c.Content && !c.Hidden {
		c.Edited = c.Content != ""
		c.Content = content
	}
	if c.Hidden {
		c.Content = ""
	}
}

// The messages of the discussion API's errors.
const (
	msgDiscussionNotFound = "Discussion not found"
	msgCommentNotFound    = "Comment not found"
	msgNoRights           = "You don't have the rights to do this"
)

// discussionRoutes registers whoami-v2 and the discussion API, for each
// repo type.
func (h *Hub) discussionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/whoami-v2", h.authed(h.serveWhoami))
	for _, typ := range []string{"model", "dataset", "space"} {
		base := "POST /api/" + typ + "s/{owner}/{name}/discussions/{num}/"
		for resource, act := range map[string]discussionAction{
			"comment":           h.commentAction,
			"status":            h.statusAction,
			"title":             h.titleAction,
			"merge":             h.mergeAction,
			"comment/{id}/edit": h.editAction,
			"comment/{id}/hide": h.hideAction,
		} {
			mux.HandleFunc(base+resource, h.authed(h.withDiscussion(typ, act)))
		}
	}
}

// whoami is the answer of GET /api/whoami-v2.
type whoami struct {
	Type     string      `json:"type"`
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	FullName string      `json:"fullname"`
	Orgs     []whoamiOrg `json:"orgs"`
	Auth     whoamiAuth  `json:"auth"`
}

type whoamiOrg struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	FullName  string `json:"fullname"`
	RoleInOrg string `json:"roleInOrg"`
}

type whoamiAuth struct {
	Type        string `json:"type"`
	AccessToken struct {
		DisplayName string `json:"displayName"`
		Role        string `json:"role"`
	} `json:"accessToken"`
}

func (h *Hub) serveWhoami(w http.ResponseWriter, _ *http.Request, token string) {
	u := h.users[token]
	ans := whoami{Type: "user", ID: UserID(u.Name), Name: u.Name, FullName: u.FullName, Orgs: []whoamiOrg{}, Auth: whoamiAuth{Type: "access_token"}}
	ans.Auth.AccessToken.DisplayName, ans.Auth.AccessToken.Role = "hubtest", "write"
	for _, o := range u.Orgs {
		ans.Orgs = append(ans.Orgs, whoamiOrg{Type: "org", ID: accountID("org", o), Name: o, FullName: o, RoleInOrg: orgRole})
	}
	writeJSON(w, http.StatusOK, ans)
}

// discussionCall is one call of the discussion API, by user, on d; it runs
// with h.mu held.
type discussionCall struct {
	w    http.ResponseWriter
	r    *http.Request
	user User
	d    *discussion
	// body is the request's JSON object; empty when there is none.
	body map[string]string
}

// discussionAction carries out a call: it changes the discussion, emits the
// events the change causes, and answers.
type discussionAction func(c *discussionCall)

// withDiscussion reads the call's body and finds its discussion, answering
// 400 or 404 when it cannot, and runs act with h.mu held.
func (h *Hub) withDiscussion(typ string, act discussionAction) tokenHandler {
	return func(w http.ResponseWriter, r *http.Request, token string) {
		c := &discussionCall{w: w, r: r, user: h.users[token], body: map[string]string{}}
		if r.ContentLength != 0 {
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody)).Decode(&c.body); err != nil {
				writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
				return
			}
		}
		num, err := strconv.Atoi(r.PathValue("num"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid discussion number")
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		c.d = h.discussions[discussionKey(typ+":"+r.PathValue("owner")+"/"+r.PathValue("name"), num)]
		if c.d == nil {
			writeError(w, http.StatusNotFound, msgDiscussionNotFound)
			return
		}
		act(c)
	}
}

// maintains reports whether the user may change the discussion: its
// author, or a member of the repo's namespace.
func (c *discussionCall) maintains() bool {
	return c.d.AuthorID == UserID(c.user.Name) || c.member()
}

// member reports whether the user owns the repo, or is a member of the
// org that does.
func (c *discussionCall) member() bool {
	_, name, _ := strings.Cut(c.d.Repo, ":")
	ns, _, _ := strings.Cut(name, "/")
	return ns == c.user.Name || slices.Contains(c.user.Orgs, ns)
}

// comment returns the comment of the path's {id}, answering 404 when there
// is none.
func (c *discussionCall) comment() *Comment {
	id := c.r.PathValue("id")
	for i := range c.d.Comments {
		if strings.EqualFold(c.d.Comments[i].ID, id) {
			return &c.d.Comments[i]
		}
	}
	writeError(c.w, http.StatusNotFound, msgCommentNotFound)
	return nil
}

// addComment adds a comment by the user and emits its
// discussion.comment.create.
func (h *Hub) addComment(c *discussionCall, content string) *Comment {
	cm := &Comment{ID: newID(time.Now()), AuthorID: UserID(c.user.Name), AuthorName: c.user.Name, Content: content, Created: time.Now()}
	c.d.Comments = append(c.d.Comments, *cm)
	h.emitDiscussionLocked(c.d, "discussion.comment.create", cm)
	return cm
}

func (h *Hub) commentAction(c *discussionCall) {
	text := c.body["comment"]
	if strings.TrimSpace(text) == "" {
		writeError(c.w, http.StatusBadRequest, "comment is required")
		return
	}
	cm := h.addComment(c, text)
	writeJSON(c.w, http.StatusOK, map[string]any{"newMessage": commentEvent(cm)})
}

// statusAction closes or reopens a discussion. With a comment, the comment
// comes first, with its own event, then the status change: how the Hub
// orders them is not documented.
func (h *Hub) statusAction(c *discussionCall) {
	status := c.body["status"]
	switch {
	case status != "open" && status != "closed":
		writeError(c.w, http.StatusBadRequest, "status must be open or closed")
	case c.d.Status == "merged":
		writeError(c.w, http.StatusBadRequest, "A merged pull request cannot change status")
	case c.d.Status == status:
		writeError(c.w, http.StatusBadRequest, "The discussion is already "+status)
	case !c.maintains():
		writeError(c.w, http.StatusForbidden, msgNoRights)
	default:
		if text := strings.TrimSpace(c.body["comment"]); text != "" {
			h.addComment(c, text)
		}
		c.d.Status = status
		h.emitDiscussionLocked(c.d, "discussion.update", nil)
		writeJSON(c.w, http.StatusOK, map[string]any{"newStatus": event(newID(time.Now()), "status-change", c.user, map[string]any{"status": status})})
	}
}

func (h *Hub) titleAction(c *discussionCall) {
	title := strings.TrimSpace(c.body["title"])
	switch {
	case title == "":
		writeError(c.w, http.StatusBadRequest, "title is required")
	case !c.maintains():
		writeError(c.w, http.StatusForbidden, msgNoRights)
	default:
		old := c.d.Title
		c.d.Title = title
		h.emitDiscussionLocked(c.d, "discussion.update", nil)
		writeJSON(c.w, http.StatusOK, map[string]any{"newTitle": event(newID(time.Now()), "title-change", c.user, map[string]any{"from": old, "to": title})})
	}
}

func (h *Hub) mergeAction(c *discussionCall) {
	switch {
	case !c.d.IsPullRequest:
		writeError(c.w, http.StatusBadRequest, "This discussion is not a pull request")
	case c.d.Status != "open":
		writeError(c.w, http.StatusBadRequest, "Only an open pull request can be merged")
	case !c.member():
		writeError(c.w, http.StatusForbidden, msgNoRights)
	default:
		if text := strings.TrimSpace(c.body["comment"]); text != "" {
			h.addComment(c, text)
		}
		c.d.Status = "merged"
		c.d.mergeCommitID = newSHA()
		h.emitDiscussionLocked(c.d, "discussion.update", nil)
		writeJSON(c.w, http.StatusOK, map[string]any{})
	}
}

func (h *Hub) editAction(c *discussionCall) {
	content := c.body["content"]
	if strings.TrimSpace(content) == "" {
		writeError(c.w, http.StatusBadRequest, "content is required")
		return
	}
	cm := c.comment()
	switch {
	case cm == nil:
	case cm.AuthorID != UserID(c.user.Name):
		writeError(c.w, http.StatusForbidden, msgNoRights)
	case cm.Hidden:
		writeError(c.w, http.StatusBadRequest, "A hidden comment cannot be edited")
	default:
		cm.Content, cm.Edited = content, true
		h.emitDiscussionLocked(c.d, "discussion.comment.update", cm)
		writeJSON(c.w, http.StatusOK, map[string]any{"updatedComment": commentEvent(cm)})
	}
}

func (h *Hub) hideAction(c *discussionCall) {
	cm := c.comment()
	switch {
	case cm == nil:
	case cm.AuthorID != UserID(c.user.Name) && !c.member():
		writeError(c.w, http.StatusForbidden, msgNoRights)
	default:
		cm.Hidden, cm.Content = true, ""
		h.emitDiscussionLocked(c.d, "discussion.comment.update", cm)
		writeJSON(c.w, http.StatusOK, map[string]any{"updatedComment": commentEvent(cm)})
	}
}

// emitDiscussionLocked emits the event of kind the discussion caused, about
// cm when it is not nil, with the discussion as it now is; h.mu must be
// held. The rest of the payload is a sample's.
func (h *Hub) emitDiscussionLocked(d *discussion, kind string, cm *Comment) {
	typ, name, _ := strings.Cut(d.Repo, ":")
	tree, err := sample.Build(kind, sample.Options{RepoType: typ, RepoName: name})
	if err != nil {
		h.cfg.logger.Error("building a discussion event", "kind", kind, "err", err)
		return
	}
	repoURL := tree["repo"].(map[string]any)["url"].(map[string]any)
	path := "/discussions/" + strconv.Itoa(d.Num)
	web := repoURL["web"].(string) + path
	dm := map[string]any{
		"id": d.ID, "num": d.Num, "author": map[string]any{"id": d.AuthorID},
		"title": d.Title, "isPullRequest": d.IsPullRequest, "status": d.Status,
		"url": map[string]any{"web": web, "api": repoURL["api"].(string) + path},
	}
	if d.IsPullRequest {
		changes := map[string]any{"base": cmp.Or(d.base, "refs/heads/main")}
		if d.mergeCommitID != "" {
			changes["mergeCommitId"] = d.mergeCommitID
		}
		dm["changes"] = changes
	}
	tree["discussion"] = dm
	delete(tree, "comment")
	if cm != nil {
		c := map[string]any{"id": cm.ID, "author": map[string]any{"id": cm.AuthorID}, "hidden": cm.Hidden, "url": map[string]any{"web": web + "#" + cm.ID}}
		if !cm.Hidden {
			c["content"] = cm.Content
		}
		tree["comment"] = c
	}
	if _, err := h.emitLocked(kind, tree); err != nil {
		h.cfg.logger.Error("emitting a discussion event", "kind", kind, "err", err)
	}
}

// event is a discussion event as the Hub answers it.
func event(id, typ string, by User, data map[string]any) map[string]any {
	return map[string]any{
		"id": id, "type": typ, "createdAt": time.Now().UTC().Format(time.RFC3339Nano),
		"author": map[string]any{"_id": UserID(by.Name), "name": by.Name, "fullname": by.FullName, "type": "user"},
		"data":   data,
	}
}

// commentEvent is cm as the Hub answers a comment.
func commentEvent(cm *Comment) map[string]any {
	version := map[string]any{"raw": cm.Content, "html": "<p>" + html.EscapeString(cm.Content) + "</p>", "updatedAt": time.Now().UTC().Format(time.RFC3339Nano)}
	ev := event(cm.ID, "comment", User{Name: cm.AuthorName, FullName: cm.AuthorName}, map[string]any{
		"edited": cm.Edited, "hidden": cm.Hidden, "latest": version, "numEdits": 0, "history": []any{version},
	})
	ev["createdAt"] = cm.Created.UTC().Format(time.RFC3339Nano)
	if cm.AuthorName == "" { // a comment of an emitted event: the Hub knows only its author's id
		ev["author"] = map[string]any{"_id": cm.AuthorID, "type": "user"}
	}
	return ev
}

// newSHA returns a random git commit sha.
func newSHA() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
