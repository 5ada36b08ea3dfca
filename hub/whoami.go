package hub

import (
	"context"
	"net/http"
)

// User is the account a token belongs to, as GET /api/whoami-v2 describes
// it.
type User struct {
	// ID is the user's id: the id the Hub's webhook payloads give as an
	// author's (comment.author.id, discussion.author.id).
	ID string `json:"id"`
	// Name is the user name.
	Name string `json:"name"`
	// FullName is the display name.
	FullName string `json:"fullname"`
	// Type is "user" for a person's token; the Hub also has "app" tokens.
	Type string `json:"type"`
	// Orgs are the organizations the user is a member of.
	Orgs []Org `json:"orgs"`
}

// Org is an organization a [User] is a member of.
type Org struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	FullName string `json:"fullname"`
	// RoleInOrg is the user's role: read, contributor, write or admin.
	RoleInOrg string `json:"roleInOrg"`
}

// Whoami returns the account of the Client's token (GET /api/whoami-v2), as
// huggingface_hub's whoami does. The Hub rate-limits this endpoint
// strictly: call it once and keep the answer. Retried when it fails in a
// way worth retrying.
func (c *Client) Whoami(ctx context.Context) (*User, error) {
	var u User
	if err := c.do(ctx, http.MethodGet, "/api/whoami-v2", nil, &u, true); err != nil {
		return nil, err
	}
	return &u, nil
}
