package hfhooks

import (
	"net/http"
	"os"
	"strings"

	"github.com/hfhooks/hfhooks/internal/signin"
)

// Access says who may use a Server's page, /api/* and /metrics: the
// operators' door. The Hub's door, POST /webhooks/<name>, is always checked
// with the webhook secret alone, and /healthz and /readyz are open to
// everyone.
type Access string

// The access modes.
const (
	// AccessAuto, the default, is open for local development (a request
	// to a loopback address whose Host header names loopback, when not on
	// a Space) and private otherwise.
	AccessAuto Access = "auto"
	// AccessPrivate always needs a signed-in operator or the operator
	// token.
	AccessPrivate Access = "private"
	// AccessPublic lets everyone see the deliveries and re-run them. It
	// is logged as a warning at start.
	AccessPublic Access = "public"
	// AccessOff serves no page, /api/* or /metrics: only the endpoints,
	// /healthz and /readyz.
	AccessOff Access = "off"
)

// WithAccess sets who may use the page, /api/* and /metrics (AccessAuto by
// default). A private page lets in a user signed in with Hugging Face who
// is an operator (WithOperators), or the operator token
// (WithOperatorToken); everyone else gets a sign-in page, or 401.
func WithAccess(a Access) Option {
	return func(c *config) { c.access = a }
}

// WithOperators sets who may sign in with Hugging Face: Hub user names
// ("alice") and organisations ("org:acme", whose members may). On a Space,
// the default is the Space's owner.
func WithOperators(names ...string) Option {
	return func(c *config) { c.operators = append(c.operators, names...) }
}

// WithOperatorToken sets the operator token (default: the
// HFHOOKS_UI_TOKEN environment variable): the sign-in page gets a form for
// it, and scripts and Prometheus send it as "Authorization: Bearer TOKEN".
// Use a long random value; it is never logged.
func WithOperatorToken(token string) Option {
	return func(c *config) { c.operatorToken = token }
}

// WithSessionKey sets the key of the session cookies (default: the
// HFHOOKS_SESSION_KEY environment variable). Without one, the key is
// derived from the OAuth client secret, else from the operator token, so
// that sessions survive restarts; with neither, it is random and sessions
// end when the process does.
func WithSessionKey(key string) Option {
	return func(c *config) { c.sessionKey = key }
}

// OAuthConfig is the Hub's OpenID Connect client that Sign in with Hugging
// Face uses. A Space whose README metadata has hf_oauth: true gets one in
// its environment, which NewServer reads by default.
type OAuthConfig struct {
	ProviderURL  string   // OPENID_PROVIDER_URL (https://huggingface.co)
	ClientID     string   // OAUTH_CLIENT_ID
	ClientSecret string   // OAUTH_CLIENT_SECRET
	Scopes       []string // OAUTH_SCOPES (default openid profile)
}

// WithOAuth enables Sign in with Hugging Face with c, in place of the
// OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_SCOPES and
// OPENID_PROVIDER_URL environment variables: for a provider of your own,
// such as the emulator's (package hubtest) in tests.
func WithOAuth(c OAuthConfig) Option {
	return func(cfg *config) { cfg.oauth = &c }
}

// space is what the environment says about the Space the server runs on.
type space struct {
	id     string // SPACE_ID, owner/name; "" when not on a Space
	host   string // SPACE_HOST, owner-name.hf.space
	author string // SPACE_AUTHOR_NAME
}

func spaceFromEnv() space {
	return space{id: os.Getenv("SPACE_ID"), host: strings.Trim(os.Getenv("SPACE_HOST"), "/"), author: os.Getenv("SPACE_AUTHOR_NAME")}
}

// owner returns the Space's owner.
func (sp space) owner() string {
	if owner, _, ok := strings.Cut(sp.id, "/"); ok && owner != "" {
		return owner
	}
	return sp.author
}

// oauthFromEnv returns the OAuth client a Space with hf_oauth: true gets,
// or nil.
func oauthFromEnv() *OAuthConfig {
	id, provider := os.Getenv("OAUTH_CLIENT_ID"), os.Getenv("OPENID_PROVIDER_URL")
	if id == "" || provider == "" {
		return nil
	}
	return &OAuthConfig{ProviderURL: provider, ClientID: id, ClientSecret: os.Getenv("OAUTH_CLIENT_SECRET"), Scopes: strings.Fields(os.Getenv("OAUTH_SCOPES"))}
}

// newGate builds the operators' door of s from its configuration and the
// environment.
func (s *Server) newGate() (*signin.Gate, error) {
	c := s.cfg
	mode, err := signin.ParseMode(string(c.access))
	if err != nil {
		return nil, err
	}
	operators := c.operators
	if len(operators) == 0 && s.space.owner() != "" {
		operators = []string{s.space.owner()}
	}
	token := c.operatorToken
	if token == "" {
		token = os.Getenv("HFHOOKS_UI_TOKEN")
	}
	key := c.sessionKey
	if key == "" {
		key = os.Getenv("HFHOOKS_SESSION_KEY")
	}
	oauth := c.oauth
	if oauth == nil {
		oauth = oauthFromEnv()
	}
	var o *signin.OAuth
	if oauth != nil {
		o = &signin.OAuth{ProviderURL: oauth.ProviderURL, ClientID: oauth.ClientID, ClientSecret: oauth.ClientSecret, Scopes: oauth.Scopes}
	}
	return signin.New(signin.Config{
		Mode:       mode,
		Operators:  operators,
		Token:      token,
		SessionKey: key,
		OAuth:      o,
		OnSpace:    s.space.id != "",
		Base:       s.publicBase,
		Logger:     s.log,
	})
}

// misconfigured answers every operator route when the door could not be
// built: closed, with the reason.
func misconfigured(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "the page is closed: its access settings are not valid: " + err.Error()})
	})
}
