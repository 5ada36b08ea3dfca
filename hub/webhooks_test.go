package hub

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

const hookID = "654bbbc16f2ec14d77f109cc"

// hookJSON is a webhook object as the Hub returns it, with a key the client
// does not know.
const hookJSON = `{"id": "654bbbc16f2ec14d77f109cc",
  "url": "https://webhook.site/a2176e82-5720-43ee-9e06-f91cb4c91548",
  "watched": [{"type": "user", "name": "julien-c"}, {"type": "org", "name": "HuggingFaceH4"}],
  "domains": ["repo", "discussion"], "secret": "my-secret", "disabled": false,
  "createdAt": "2024-07-01T00:00:00Z"}`

var wantHook = &Webhook{
	ID:       hookID,
	URL:      "https://webhook.site/a2176e82-5720-43ee-9e06-f91cb4c91548",
	Watched:  []WatchedItem{{WatchedUser, "julien-c"}, {WatchedOrg, "HuggingFaceH4"}},
	Domains:  []Domain{DomainRepo, DomainDiscussion},
	Secret:   "my-secret",
	Disabled: false,
}

func TestListWebhooks(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		testHeaders(t, r, false)
		testBody(t, r, "")
		if r.URL.RawQuery != "" {
			t.Errorf("query = %q, want none", r.URL.RawQuery)
		}
		fmt.Fprint(w, `[`+hookJSON+`, {"id": "j1", "job": {"dockerImage": "python:3.12"}, "watched": [{"type": "model", "name": "a/b"}], "domains": ["discussions"], "disabled": true}]`)
	})
	got, err := c.ListWebhooks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []Webhook{*wantHook, {
		ID: "j1", Job: &JobSpec{DockerImage: "python:3.12"}, Watched: []WatchedItem{{WatchedModel, "a/b"}},
		Domains: []Domain{DomainDiscussion}, Disabled: true,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListWebhooks() = %+v\nwant %+v", got, want)
	}
}

func TestGetWebhook(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/settings/webhooks/"+hookID, func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		testHeaders(t, r, false)
		testBody(t, r, "")
		fmt.Fprint(w, `{"webhook": `+hookJSON+`}`)
	})
	got, err := c.GetWebhook(t.Context(), hookID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantHook) {
		t.Errorf("GetWebhook() = %+v\nwant %+v", got, wantHook)
	}
}

func TestGetWebhookEscapesID(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if want := "/api/settings/webhooks/..%2Fadmin"; r.URL.EscapedPath() != want {
			t.Errorf("path = %q, want %q", r.URL.EscapedPath(), want)
		}
		fmt.Fprint(w, `{"webhook": `+hookJSON+`}`)
	})
	if _, err := c.GetWebhook(t.Context(), "../admin"); err != nil {
		t.Fatal(err)
	}
}

func TestCreateWebhook(t *testing.T) {
	tests := []struct {
		name     string
		opts     CreateWebhookOptions
		wantBody string
	}{
		{
			name: "url with everything",
			opts: CreateWebhookOptions{
				URL:     "https://webhook.site/a2176e82-5720-43ee-9e06-f91cb4c91548",
				Watched: []WatchedItem{{WatchedUser, "julien-c"}, {WatchedOrg, "HuggingFaceH4"}},
				Domains: []Domain{DomainRepo, "discussions"},
				Secret:  "my-secret",
			},
			wantBody: `{"watched": [{"type": "user", "name": "julien-c"}, {"type": "org", "name": "HuggingFaceH4"}],
				"domains": ["repo", "discussion"], "secret": "my-secret",
				"url": "https://webhook.site/a2176e82-5720-43ee-9e06-f91cb4c91548"}`,
		},
		{
			name:     "url only: no domains, no secret",
			opts:     CreateWebhookOptions{URL: "http://example.com/hook", Watched: []WatchedItem{{WatchedModel, "gpt2"}}},
			wantBody: `{"watched": [{"type": "model", "name": "gpt2"}], "url": "http://example.com/hook"}`,
		},
		{
			name:     "job",
			opts:     CreateWebhookOptions{JobID: "687f911eaea852de79c4a50a", Watched: []WatchedItem{{WatchedDataset, "a/b"}}, Domains: []Domain{DomainRepo}},
			wantBody: `{"watched": [{"type": "dataset", "name": "a/b"}], "domains": ["repo"], "jobSourceId": "687f911eaea852de79c4a50a"}`,
		},
		{
			name:     "empty domains list is sent",
			opts:     CreateWebhookOptions{URL: "https://x.example", Watched: []WatchedItem{{WatchedSpace, "a/b"}}, Domains: []Domain{}},
			wantBody: `{"watched": [{"type": "space", "name": "a/b"}], "domains": [], "url": "https://x.example"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t)
			mux.HandleFunc("/api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, "POST")
				testHeaders(t, r, true)
				testBody(t, r, tt.wantBody)
				fmt.Fprint(w, `{"webhook": `+hookJSON+`}`)
			})
			got, err := c.CreateWebhook(t.Context(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, wantHook) {
				t.Errorf("CreateWebhook() = %+v, want %+v", got, wantHook)
			}
		})
	}
}

func TestUpdateWebhook(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/settings/webhooks/"+hookID, func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "POST")
		testHeaders(t, r, true)
		testBody(t, r, `{"url": "https://new.webhook.site/url", "watched": [{"type": "user", "name": "new-username"}], "domains": ["repo"], "secret": ""}`)
		fmt.Fprint(w, `{"webhook": `+hookJSON+`}`)
	})
	got, err := c.UpdateWebhook(t.Context(), hookID, UpdateWebhookOptions{
		URL:     Ptr("https://new.webhook.site/url"),
		Watched: []WatchedItem{{WatchedUser, "new-username"}},
		Domains: []Domain{DomainRepo},
		Secret:  Ptr(""),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantHook) {
		t.Errorf("UpdateWebhook() = %+v, want %+v", got, wantHook)
	}
}

func TestUpdateWebhookWithoutWatchedSendsCurrentList(t *testing.T) {
	c, mux := setup(t)
	var calls []string
	mux.HandleFunc("/api/settings/webhooks/"+hookID, func(w http.ResponseWriter, r *http.Request) {
		calls = append(calls, r.Method)
		switch r.Method {
		case "GET":
			fmt.Fprint(w, `{"webhook": `+hookJSON+`}`)
		case "POST":
			testHeaders(t, r, true)
			testBody(t, r, `{"url": "https://new.example/hook", "watched": [{"type": "user", "name": "julien-c"}, {"type": "org", "name": "HuggingFaceH4"}]}`)
			fmt.Fprint(w, `{"webhook": `+hookJSON+`}`)
		}
	})
	if _, err := c.UpdateWebhook(t.Context(), hookID, UpdateWebhookOptions{URL: Ptr("https://new.example/hook")}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"GET", "POST"}; !reflect.DeepEqual(calls, want) {
		t.Errorf("requests = %v, want %v", calls, want)
	}
}

func TestUpdateWebhookGetFails(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/settings/webhooks/"+hookID, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error": "Webhook not found"}`, http.StatusNotFound)
	})
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("update sent although the webhook could not be read")
	})
	_, err := c.UpdateWebhook(t.Context(), hookID, UpdateWebhookOptions{Secret: Ptr("s")})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateWebhook() error = %v, want ErrNotFound", err)
	}
}

func TestEnableDisableWebhook(t *testing.T) {
	tests := []struct {
		action   string
		call     func(*Client) (*Webhook, error)
		disabled bool
	}{
		{"enable", func(c *Client) (*Webhook, error) { return c.EnableWebhook(t.Context(), hookID) }, false},
		{"disable", func(c *Client) (*Webhook, error) { return c.DisableWebhook(t.Context(), hookID) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			c, mux := setup(t)
			mux.HandleFunc("/api/settings/webhooks/"+hookID+"/"+tt.action, func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, "POST")
				testHeaders(t, r, false)
				testBody(t, r, "")
				fmt.Fprintf(w, `{"webhook": {"id": %q, "url": "https://x.example", "watched": [{"type": "user", "name": "u"}], "domains": ["repo"], "disabled": %t}}`, hookID, tt.disabled)
			})
			got, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != hookID || got.Disabled != tt.disabled {
				t.Errorf("got %+v, want id %s disabled %t", got, hookID, tt.disabled)
			}
		})
	}
}

func TestDeleteWebhook(t *testing.T) {
	c, mux := setup(t)
	called := false
	mux.HandleFunc("/api/settings/webhooks/"+hookID, func(w http.ResponseWriter, r *http.Request) {
		called = true
		testMethod(t, r, "DELETE")
		testHeaders(t, r, false)
		testBody(t, r, "")
		fmt.Fprint(w, `this body is ignored`)
	})
	if err := c.DeleteWebhook(t.Context(), hookID); err != nil {
		t.Fatal(err)
	}
	if !called {
		t.Error("no DELETE request reached the server")
	}
}

func TestDecodeWebhook(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    *Webhook
		wantErr bool
	}{
		{
			name: "job camelCase",
			json: `{"id": "j", "url": null, "job": {"dockerImage": "python:3.12", "spaceId": "a/s", "command": ["python", "-c"], "arguments": ["print(1)"],
				"environment": {"A": "1"}, "secrets": {"S": "x"}, "flavor": "cpu-basic", "timeout": 300, "tags": ["t"], "arch": "amd64",
				"labels": {"k": "v"}, "volumes": [{"type": "dataset", "source": "a/d", "mountPath": "/data", "revision": "main", "readOnly": true, "path": "sub"}],
				"futureKey": 1}, "watched": [], "domains": [], "disabled": false}`,
			want: &Webhook{ID: "j", Job: &JobSpec{
				DockerImage: "python:3.12", SpaceID: "a/s", Command: []string{"python", "-c"}, Arguments: []string{"print(1)"},
				Environment: map[string]string{"A": "1"}, Secrets: map[string]string{"S": "x"}, Flavor: "cpu-basic", Timeout: 300,
				Tags: []string{"t"}, Arch: "amd64", Labels: map[string]string{"k": "v"},
				Volumes: []Volume{{Type: "dataset", Source: "a/d", MountPath: "/data", Revision: "main", ReadOnly: true, Path: "sub"}},
			}, Watched: []WatchedItem{}, Domains: []Domain{}},
		},
		{
			name: "job snake_case",
			json: `{"id": "j", "job": {"docker_image": "img", "space_id": "a/s", "volumes": [{"mount_path": "/m", "read_only": true}]}, "watched": [], "domains": [], "disabled": false}`,
			want: &Webhook{ID: "j", Job: &JobSpec{DockerImage: "img", SpaceID: "a/s", Volumes: []Volume{{MountPath: "/m", ReadOnly: true}}}, Watched: []WatchedItem{}, Domains: []Domain{}},
		},
		{
			name: "camelCase wins over snake_case",
			json: `{"id": "j", "job": {"docker_image": "snake", "dockerImage": "camel"}, "watched": [], "domains": [], "disabled": false}`,
			want: &Webhook{ID: "j", Job: &JobSpec{DockerImage: "camel"}, Watched: []WatchedItem{}, Domains: []Domain{}},
		},
		{
			name: "null job",
			json: `{"id": "j", "url": "https://x", "job": null, "watched": [], "domains": [], "disabled": false}`,
			want: &Webhook{ID: "j", URL: "https://x", Watched: []WatchedItem{}, Domains: []Domain{}},
		},
		{
			name: "empty job",
			json: `{"id": "j", "url": "https://x", "job": {}, "watched": [], "domains": [], "disabled": false}`,
			want: &Webhook{ID: "j", URL: "https://x", Watched: []WatchedItem{}, Domains: []Domain{}},
		},
		{
			name: "discussions becomes discussion",
			json: `{"id": "j", "watched": [], "domains": ["discussions", "repo"], "disabled": true}`,
			want: &Webhook{ID: "j", Watched: []WatchedItem{}, Domains: []Domain{DomainDiscussion, DomainRepo}, Disabled: true},
		},
		{name: "no id", json: `{"watched": [], "domains": [], "disabled": false}`, wantErr: true},
		{name: "no watched", json: `{"id": "j", "domains": [], "disabled": false}`, wantErr: true},
		{name: "no domains", json: `{"id": "j", "watched": [], "disabled": false}`, wantErr: true},
		{name: "no disabled", json: `{"id": "j", "watched": [], "domains": []}`, wantErr: true},
		{name: "watched item without name", json: `{"id": "j", "watched": [{"type": "user"}], "domains": [], "disabled": false}`, wantErr: true},
		{name: "watched item without type", json: `{"id": "j", "watched": [{"name": "u"}], "domains": [], "disabled": false}`, wantErr: true},
		{name: "job not an object", json: `{"id": "j", "job": [1], "watched": [], "domains": [], "disabled": false}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t)
			mux.HandleFunc("/api/settings/webhooks/j", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `{"webhook": `+tt.json+`}`)
			})
			got, err := c.GetWebhook(t.Context(), "j")
			if tt.wantErr {
				if err == nil {
					t.Fatalf("GetWebhook() = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("GetWebhook() = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestWebhookAnswerWithoutEnvelope(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/settings/webhooks/"+hookID, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, hookJSON) // not wrapped in {"webhook": ...}
	})
	if got, err := c.GetWebhook(t.Context(), hookID); err == nil {
		t.Fatalf("GetWebhook() = %+v, want an error", got)
	}
}

func TestArgumentsCheckedBeforeRequest(t *testing.T) {
	watched := []WatchedItem{{WatchedUser, "u"}}
	tests := []struct {
		name    string
		call    func(*Client) error
		wantArg string
	}{
		{"create with url and job", func(c *Client) error {
			_, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{URL: "https://x.example", JobID: "j", Watched: watched})
			return err
		}, "url"},
		{"create with neither url nor job", func(c *Client) error {
			_, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{Watched: watched})
			return err
		}, "url"},
		{"create without watched", func(c *Client) error {
			_, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{URL: "https://x.example"})
			return err
		}, "watched"},
		{"create with empty watched", func(c *Client) error {
			_, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{URL: "https://x.example", Watched: []WatchedItem{}})
			return err
		}, "watched"},
		{"create with unknown watched type", func(c *Client) error {
			_, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{URL: "https://x.example", Watched: []WatchedItem{{"repo", "a/b"}}})
			return err
		}, "watched"},
		{"create with watched item without name", func(c *Client) error {
			_, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{URL: "https://x.example", Watched: []WatchedItem{{WatchedUser, ""}}})
			return err
		}, "watched"},
		{"create with ftp url", func(c *Client) error {
			_, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{URL: "ftp://x.example", Watched: watched})
			return err
		}, "url"},
		{"create with relative url", func(c *Client) error {
			_, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{URL: "/hook", Watched: watched})
			return err
		}, "url"},
		{"create with non-ASCII secret", func(c *Client) error {
			_, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{URL: "https://x.example", Watched: watched, Secret: "sécret"})
			return err
		}, "secret"},
		{"create with unknown domain", func(c *Client) error {
			_, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{URL: "https://x.example", Watched: watched, Domains: []Domain{"everything"}})
			return err
		}, "domains"},
		{"update with empty url", func(c *Client) error {
			_, err := c.UpdateWebhook(t.Context(), hookID, UpdateWebhookOptions{URL: Ptr("")})
			return err
		}, "url"},
		{"update with bad url", func(c *Client) error {
			_, err := c.UpdateWebhook(t.Context(), hookID, UpdateWebhookOptions{URL: Ptr("mailto:a@b")})
			return err
		}, "url"},
		{"update with bad url and a secret in it", func(c *Client) error {
			_, err := c.UpdateWebhook(t.Context(), hookID, UpdateWebhookOptions{URL: Ptr("ftp://u:SEKRET@h/?secret=SEKRET")})
			return err
		}, "url"},
		{"update with empty watched", func(c *Client) error {
			_, err := c.UpdateWebhook(t.Context(), hookID, UpdateWebhookOptions{Watched: []WatchedItem{}})
			return err
		}, "watched"},
		{"update with unknown watched type", func(c *Client) error {
			_, err := c.UpdateWebhook(t.Context(), hookID, UpdateWebhookOptions{Watched: []WatchedItem{{"users", "u"}}})
			return err
		}, "watched"},
		{"update with non-ASCII secret", func(c *Client) error {
			_, err := c.UpdateWebhook(t.Context(), hookID, UpdateWebhookOptions{Secret: Ptr("🔑")})
			return err
		}, "secret"},
		{"update with unknown domain", func(c *Client) error {
			_, err := c.UpdateWebhook(t.Context(), hookID, UpdateWebhookOptions{Domains: []Domain{"repos"}})
			return err
		}, "domains"},
		{"update without id", func(c *Client) error {
			_, err := c.UpdateWebhook(t.Context(), "", UpdateWebhookOptions{Watched: watched})
			return err
		}, "id"},
		{"get without id", func(c *Client) error { _, err := c.GetWebhook(t.Context(), ""); return err }, "id"},
		{"enable without id", func(c *Client) error { _, err := c.EnableWebhook(t.Context(), ""); return err }, "id"},
		{"disable without id", func(c *Client) error { _, err := c.DisableWebhook(t.Context(), ""); return err }, "id"},
		{"delete without id", func(c *Client) error { return c.DeleteWebhook(t.Context(), "") }, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t)
			failOnRequest(t, mux)
			err := tt.call(c)
			var argErr *ArgumentError
			if !errors.As(err, &argErr) {
				t.Fatalf("error = %v, want an *ArgumentError", err)
			}
			if argErr.Arg != tt.wantArg {
				t.Errorf("Arg = %q, want %q (error: %v)", argErr.Arg, tt.wantArg, err)
			}
			if want := "hub: invalid argument " + tt.wantArg + ": " + argErr.Problem; err.Error() != want || argErr.Problem == "" {
				t.Errorf("Error() = %q, want %q with a problem", err, want)
			}
			if strings.Contains(err.Error(), "SEKRET") {
				t.Errorf("Error() = %q shows a secret of the URL", err)
			}
		})
	}
}
