package sample_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks/internal/sample"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestSet(t *testing.T) {
	const start = `{"repo":{"name":"a/b","private":false},"updatedRefs":[{"ref":"refs/heads/main"}]}`
	tests := []struct {
		name, path, value string
		want              string // the tree after Set, as compact JSON
		wantErr           string // a substring of the error
	}{
		{name: "replace a boolean", path: "repo.private", value: "true",
			want: `{"repo":{"name":"a/b","private":true},"updatedRefs":[{"ref":"refs/heads/main"}]}`},
		{name: "array index", path: "updatedRefs.0.ref", value: "refs/tags/v1",
			want: `{"repo":{"name":"a/b","private":false},"updatedRefs":[{"ref":"refs/tags/v1"}]}`},
		{name: "replace an array element", path: "updatedRefs.0", value: `{"ref":"refs/pr/1","oldSha":null}`,
			want: `{"repo":{"name":"a/b","private":false},"updatedRefs":[{"oldSha":null,"ref":"refs/pr/1"}]}`},
		{name: "nested objects are created", path: "discussion.changes.base", value: "refs/heads/dev",
			want: `{"discussion":{"changes":{"base":"refs/heads/dev"}},"repo":{"name":"a/b","private":false},"updatedRefs":[{"ref":"refs/heads/main"}]}`},
		{name: "number keeps its digits", path: "repo.n", value: "12345678901234567890",
			want: `{"repo":{"n":12345678901234567890,"name":"a/b","private":false},"updatedRefs":[{"ref":"refs/heads/main"}]}`},
		{name: "null", path: "repo.name", value: "null",
			want: `{"repo":{"name":null,"private":false},"updatedRefs":[{"ref":"refs/heads/main"}]}`},
		{name: "object", path: "updatedConfig", value: `{"private": true}`,
			want: `{"repo":{"name":"a/b","private":false},"updatedConfig":{"private":true},"updatedRefs":[{"ref":"refs/heads/main"}]}`},
		{name: "quoted JSON string", path: "repo.private", value: `"true"`,
			want: `{"repo":{"name":"a/b","private":"true"},"updatedRefs":[{"ref":"refs/heads/main"}]}`},
		{name: "plain string", path: "repo.name", value: "other/repo",
			want: `{"repo":{"name":"other/repo","private":false},"updatedRefs":[{"ref":"refs/heads/main"}]}`},
		{name: "invalid JSON is a string", path: "repo.name", value: `{"a":`,
			want: `{"repo":{"name":"{\"a\":","private":false},"updatedRefs":[{"ref":"refs/heads/main"}]}`},
		{name: "empty value is a string", path: "repo.name", value: "",
			want: `{"repo":{"name":"","private":false},"updatedRefs":[{"ref":"refs/heads/main"}]}`},
		{name: "empty path", path: "", value: "1", wantErr: `set "": empty path segment`},
		{name: "empty segment", path: "repo..name", value: "1", wantErr: `set "repo..name": empty path segment`},
		{name: "through a string", path: "repo.name.first", value: "1", wantErr: `set "repo.name.first": repo.name is a string, not an object or array`},
		{name: "through a boolean", path: "repo.private.x", value: "1", wantErr: "repo.private is a boolean"},
		{name: "index out of range", path: "updatedRefs.1.ref", value: "x", wantErr: `set "updatedRefs.1.ref": updatedRefs has 1 element(s), "1" is not an index in it`},
		{name: "negative index", path: "updatedRefs.-1", value: "x", wantErr: `"-1" is not an index`},
		{name: "key into an array", path: "updatedRefs.ref", value: "x", wantErr: `"ref" is not an index`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tree map[string]any
			if err := json.Unmarshal([]byte(start), &tree); err != nil {
				t.Fatal(err)
			}
			err := sample.Set(tree, tt.path, tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Set(%q, %q) = %v, want an error containing %q", tt.path, tt.value, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Set(%q, %q): %v", tt.path, tt.value, err)
			}
			got, err := json.Marshal(tree)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Set(%q, %q) gave\n%s\nwant\n%s", tt.path, tt.value, got, tt.want)
			}
		})
	}
}

func TestJSONAppliesOverridesInOrder(t *testing.T) {
	p := decode(t, "repo.content", fixed(1), "repo.private=true", "updatedRefs.0.ref=refs/tags/v1", "repo.name=acme/other", "repo.name=acme/final")
	if !p.Repo.Private || p.UpdatedRefs[0].Ref != "refs/tags/v1" || p.Repo.Name != "acme/final" {
		t.Errorf("got private %v, ref %s, name %s; want the overrides applied in order", p.Repo.Private, p.UpdatedRefs[0].Ref, p.Repo.Name)
	}
}

func TestDefaults(t *testing.T) {
	p := decode(t, "repo.create", sample.Options{})
	if p.Repo.Type != "model" || p.Repo.Name != "acme/sentiment-model" || p.Webhook.Version != 3 {
		t.Errorf("zero Options gave %s %s, webhook %+v; want the model acme/sentiment-model, version 3", p.Repo.Type, p.Repo.Name, p.Webhook)
	}
	o := fixed(1)
	o.WebhookID = "6390e855e30d9209411de93b"
	if p := decode(t, "repo.create", o); p.Webhook.ID != o.WebhookID {
		t.Errorf("webhook.id = %s, want %s", p.Webhook.ID, o.WebhookID)
	}
}

func TestSeededRandIsDeterministic(t *testing.T) {
	for _, kind := range sample.Kinds() {
		a, errA := sample.JSON(kind, fixed(7))
		b, errB := sample.JSON(kind, fixed(7))
		c, errC := sample.JSON(kind, fixed(8))
		if errA != nil || errB != nil || errC != nil {
			t.Fatalf("%s: %v, %v, %v", kind, errA, errB, errC)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two builds with the same seed differ:\n%s\n%s", kind, a, b)
		}
		if bytes.Equal(a, c) {
			t.Errorf("%s: two builds with different seeds are equal", kind)
		}
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct{ kind, repoType string }{
		{"discussion.create", "model"},
		{"repo.content", "space"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			o := fixed(42)
			o.RepoType = tc.repoType
			got, err := sample.JSON(tc.kind, o)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.kind+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run go test -update if the change is intended):\n%s", tc.kind, path, got)
			}
		})
	}
}
