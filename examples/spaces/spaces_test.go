package spaces

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hfhooks/hfhooks/action"
	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/internal/config"
)

// repoRoot is the repository, relative to this package.
const repoRoot = "../.."

// modulePath is the repository's module, which the templates fetch.
const modulePath = "github.com/hfhooks/hfhooks"

// templates are the Space folders, and whether their Space signs operators
// in with Hugging Face (the relay has no page).
var templates = []struct {
	dir   string
	oauth bool
}{
	{"receiver", true},
	{"hooks", true},
	{"relay", false},
}

// TestFrontMatter checks each Space's README metadata.
func TestFrontMatter(t *testing.T) {
	t.Parallel()
	for _, tt := range templates {
		readme := filepath.Join(tt.dir, "README.md")
		data, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		rest, ok := bytes.CutPrefix(data, []byte("---\n"))
		front, _, closed := bytes.Cut(rest, []byte("\n---\n"))
		if !ok || !closed {
			t.Errorf("%s: does not start with front matter between --- lines", readme)
			continue
		}
		var meta struct {
			Title   string `yaml:"title"`
			SDK     string `yaml:"sdk"`
			AppPort int    `yaml:"app_port"`
			HFOAuth bool   `yaml:"hf_oauth"`
		}
		if err := yaml.Unmarshal(front, &meta); err != nil {
			t.Errorf("%s: front matter: %v", readme, err)
			continue
		}
		if meta.Title == "" || meta.SDK != "docker" || meta.AppPort != 7860 || meta.HFOAuth != tt.oauth {
			t.Errorf("%s: title %q, sdk %q, app_port %d, hf_oauth %v; want a title, docker, 7860, %v",
				readme, meta.Title, meta.SDK, meta.AppPort, meta.HFOAuth, tt.oauth)
		}
	}
}

// TestDockerfiles checks what each Dockerfile builds and runs: its build
// stage builds, without cgo, a main package that exists in the repository
// (or in the template's folder), it copies only files of the folder, and
// its image runs as user 1000 on port 7860.
func TestDockerfiles(t *testing.T) {
	t.Parallel()
	for _, tt := range templates {
		path := filepath.Join(tt.dir, "Dockerfile")
		stages, err := parseDockerfile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(stages) < 2 {
			t.Errorf("%s: %d stage(s); want a Go build stage and the image", path, len(stages))
			continue
		}
		builds := 0
		for _, st := range stages[:len(stages)-1] {
			for _, c := range st.goCommands() {
				switch c.sub {
				case "build", "install":
					builds++
					if c.env["CGO_ENABLED"] != "0" {
						t.Errorf("%s: go %s without CGO_ENABLED=0: the binary must be static", path, c.sub)
					}
					for _, pkg := range c.packages() {
						if err := checkMainPackage(tt.dir, pkg); err != nil {
							t.Errorf("%s: go %s %s: %v", path, c.sub, pkg, err)
						}
					}
				case "get":
					for _, m := range c.packages() {
						if mod, _, _ := strings.Cut(m, "@"); mod != modulePath {
							t.Errorf("%s: go get %s: want the repository's module, %s", path, m, modulePath)
						}
					}
				}
			}
		}
		if builds == 0 {
			t.Errorf("%s: no go build or go install in a build stage", path)
		}
		for _, st := range stages {
			for _, src := range st.copySources() {
				if _, err := os.Stat(filepath.Join(tt.dir, src)); err != nil {
					t.Errorf("%s: COPY %s: not in the folder: %v", path, src, err)
				}
			}
		}
		image := stages[len(stages)-1]
		if user := image.last("USER"); user != "1000" && user != "1000:1000" {
			t.Errorf("%s: the image runs as user %q; Spaces run user 1000", path, user)
		}
		if port := image.last("EXPOSE"); port != "7860" {
			t.Errorf("%s: EXPOSE %q; want 7860, the app_port", path, port)
		}
	}
}

// checkMainPackage reports whether pkg, as a go build or go install in the
// Dockerfile of template names it, is a main package: one of the
// repository's, or the template's own folder.
func checkMainPackage(template, pkg string) error {
	pkg, _, _ = strings.Cut(pkg, "@")
	var dir string
	switch {
	case pkg == ".":
		dir = template
	case pkg == modulePath || strings.HasPrefix(pkg, modulePath+"/"):
		dir = filepath.Join(repoRoot, strings.TrimPrefix(pkg, modulePath))
	default:
		return fmt.Errorf("neither the folder (.) nor a package of %s", modulePath)
	}
	p, err := build.ImportDir(dir, 0)
	if err != nil {
		return err
	}
	if p.Name != "main" {
		return fmt.Errorf("%s is package %s, not a command", dir, p.Name)
	}
	return nil
}

// TestReceiverBuilds runs the receiver Dockerfile's go build in the
// receiver's folder, with the repository in place of the hfhooks module
// the Dockerfile fetches (a temporary go.work), and checks that the binary
// is static.
func TestReceiverBuilds(t *testing.T) {
	t.Parallel()
	stages, err := parseDockerfile(filepath.Join("receiver", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var gobuild *goCommand
	for _, st := range stages {
		for _, c := range st.goCommands() {
			if c.sub == "build" {
				gobuild = &c
			}
		}
	}
	if gobuild == nil {
		t.Fatal("receiver/Dockerfile: no go build")
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	work := filepath.Join(tmp, "go.work")
	bin := filepath.Join(tmp, "receiver")
	for _, args := range [][]string{
		{"work", "init", root, filepath.Join(root, "examples", "spaces", "receiver")},
		gobuild.withOutput(bin),
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = "receiver"
		cmd.Env = append(os.Environ(), "GOWORK="+work)
		for k, v := range gobuild.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 || f.Section(".interp") != nil {
		t.Errorf("the receiver is dynamically linked (%v); distroless/static needs a static binary", libs)
	}
}

// TestHooks loads the hooks template's hooks.yaml as "hfhooks serve
// --config hooks.yaml --check" does, and runs its hook on a sample push to
// a dataset, as "hfhooks trigger" sends it: the Python script gets the
// payload on stdin and exits 0, without HF_TOKEN and without
// huggingface_hub.
func TestHooks(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not in PATH, so hooks/hooks.yaml cannot run: apt-get install -y python3 (.ci/run does)")
	}
	t.Setenv("WEBHOOK_SECRET", "s3cret")
	t.Setenv("HF_TOKEN", "")
	cfg, err := config.Load(filepath.Join("hooks", "hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Hooks) != 1 || cfg.Hooks[0].Name != "dataset-update" {
		t.Fatalf("hooks %+v; want one, dataset-update", cfg.Hooks)
	}
	hook := cfg.Hooks[0]

	for _, tt := range []struct {
		repo      string
		overrides map[string]string
		match     bool
	}{
		{repo: "dataset:me/data", match: true},
		{repo: "model:me/llm"},
		{repo: "dataset:me/data", overrides: map[string]string{"updatedRefs.0.ref": "refs/heads/dev"}},
		{repo: "dataset:me/data", overrides: map[string]string{"updatedRefs.0.ref": "refs/convert/parquet"}},
	} {
		d, err := hubtest.NewDelivery(hubtest.Event{Kind: "repo.content", Repo: tt.repo, Set: tt.overrides})
		if err != nil {
			t.Fatal(err)
		}
		if got, reason := hook.Filter.Match(d.Payload); got != tt.match {
			t.Errorf("repo.content on %s %v: match = %v (%s); want %v", tt.repo, tt.overrides, got, reason, tt.match)
		}
	}

	d, err := hubtest.NewDelivery(hubtest.Event{Kind: "repo.content", Repo: "dataset:me/data"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := hook.Handler(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	want := "dataset me/data updated at " + d.Payload.Repo.HeadSha + "\nHF_TOKEN is not set: skipping the Hub calls\n"
	if got := v.(*action.RunResult).Output; got != want {
		t.Errorf("output %q; want %q", got, want)
	}
}
