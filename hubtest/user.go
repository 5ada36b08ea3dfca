package hubtest

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// User is the Hub account a token belongs to: who "Sign in with Hugging
// Face" says signed in. Set it with [WithUser].
type User struct {
	// Name is the user name, unique on the Hub: the preferred_username
	// claim.
	Name string
	// FullName is the display name, the name claim; Name when empty.
	FullName string
	// Orgs are the names of the organizations the user is a member of.
	Orgs []string
}

// User returns the user token belongs to, when the Hub accepts token.
func (h *Hub) User(token string) (User, bool) {
	t, ok := h.validToken(token)
	if !ok {
		return User{}, false
	}
	u := h.users[t]
	u.Orgs = slices.Clone(u.Orgs)
	return u, true
}

// usersOf returns the user of each token: the configured one, or one named
// "userN", N the lowest number from 1 up whose name is free. A user's
// FullName defaults to its Name.
func usersOf(tokens []string, configured map[string]User) map[string]User {
	taken := map[string]bool{}
	for _, u := range configured {
		taken[u.Name] = true
	}
	users := make(map[string]User, len(tokens))
	n := 0
	for _, t := range tokens {
		if _, done := users[t]; done {
			continue
		}
		u := configured[t]
		for u.Name == "" {
			n++
			if name := "user" + strconv.Itoa(n); !taken[name] {
				u.Name, taken[name] = name, true
			}
		}
		if u.FullName == "" {
			u.FullName = u.Name
		}
		users[t] = u
	}
	return users
}

// accountID is the stable id of a user or an org ("user" or "org" kind):
// 24 hex digits, as the Hub's ids, derived from the name.
func accountID(kind, name string) string {
	sum := sha256.Sum256([]byte(kind + ":" + name))
	return hex.EncodeToString(sum[:12])
}
