package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// pythonBin is the interpreter Debian's python3-* packages install into;
// another python3 on PATH (pyenv, a venv) would not see them.
const pythonBin = "/usr/bin/python3"

// pythonPackages are the Debian packages the Python server needs.
var pythonPackages = []string{"python3-fastapi", "python3-uvicorn", "python3-pydantic", "python3-uvloop", "python3-httptools"}

// pythonVersions prints, as JSON, the versions of what the Python server
// runs on; it fails when one of the modules is missing.
const pythonVersions = `import json, platform, fastapi, pydantic, uvicorn, uvloop, httptools, starlette
print(json.dumps({"python": platform.python_version(), "fastapi": fastapi.__version__,
    "starlette": starlette.__version__, "pydantic": pydantic.VERSION, "uvicorn": uvicorn.__version__,
    "uvloop": uvloop.__version__, "httptools": httptools.__version__}))`

// requestHeader is the header of every request to a webhook endpoint.
func requestHeader(secret string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "hfhooks-bench")
	h.Set("X-Webhook-Secret", secret)
	return h
}

// prepare installs the Python packages if needed, builds the Go servers
// and describes the machine.
func (h *harness) prepare(ctx context.Context, res *results) error {
	var err error
	if res.Machine, err = describeMachine(); err != nil {
		return err
	}
	// Each program is built in its own module: hfhooks in the repository's,
	// the others in bench's.
	binaries := map[string]goPackage{"hfhooks": {".", "./cmd/hfhooks"}, "limit": {"bench", "./limit"},
		"hfserver": {"bench", "./hfserver"}, "ceiling": {"bench", "./ceiling"}, "fanout": {"bench", "./fanout"}}
	var needed []string
	for _, s := range h.servers {
		if s.python && res.Python == nil {
			if res.Python, err = ensurePython(ctx); err != nil {
				return err
			}
		}
		if s.binary != "" && !slices.Contains(needed, s.binary) {
			needed = append(needed, s.binary)
		}
		if s.db != "" && !slices.Contains(needed, "ceiling") {
			needed = append(needed, "ceiling")
		}
	}
	if h.FanoutTime > 0 {
		needed = append(needed, "fanout")
	}
	if h.Profile && !slices.Contains(needed, "hfserver") {
		needed = append(needed, "hfserver")
	}
	for _, name := range needed {
		if err := h.build(ctx, name, binaries[name]); err != nil {
			return err
		}
		fi, err := os.Stat(h.bin(name))
		if err != nil {
			return err
		}
		res.Binaries[name] = fi.Size()
	}
	return nil
}

// A goPackage is a Go main package: its path within the module whose root
// is dir, relative to the repository's root.
type goPackage struct{ dir, path string }

// build builds a Go program into the output directory, statically
// (CGO_ENABLED=0) as it would be shipped.
func (h *harness) build(ctx context.Context, name string, pkg goPackage) error {
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", h.bin(name), pkg.path)
	cmd.Dir = filepath.Join(h.root, pkg.dir)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	src := filepath.Join(pkg.dir, pkg.path)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", src, err, out)
	}
	log.Printf("built %s (%s) in %v", h.bin(name), src, time.Since(start).Round(time.Millisecond))
	return nil
}

// ensurePython returns the versions of the Python server's stack,
// installing Debian's packages with apt-get first when they are missing.
func ensurePython(ctx context.Context) (map[string]string, error) {
	if v, err := pythonStack(ctx); err == nil {
		return v, nil
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("the Python server needs Debian's packages; install them with:\n  sudo apt-get install -y %s\nor leave the Python servers out with -servers", strings.Join(pythonPackages, " "))
	}
	log.Printf("installing %s", strings.Join(pythonPackages, " "))
	install := append([]string{"install", "-y", "--no-install-recommends"}, pythonPackages...)
	if err := aptGet(ctx, install...); err != nil {
		// The package lists may be missing or stale: update them once.
		if err := aptGet(ctx, "update"); err != nil {
			return nil, err
		}
		if err := aptGet(ctx, install...); err != nil {
			return nil, err
		}
	}
	return pythonStack(ctx)
}

func aptGet(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// pythonStack returns the versions of Python and the server's packages.
func pythonStack(ctx context.Context) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, pythonBin, "-c", pythonVersions)
	cmd.Env = append(os.Environ(), "PYTHONNOUSERSITE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", pythonBin, err, strings.TrimSpace(stderr.String()))
	}
	var v map[string]string
	return v, json.Unmarshal(out, &v)
}

// machine describes where the benchmark ran.
type machine struct {
	CPUs    int    `json:"cpus"`
	CPU     string `json:"cpu"`
	Memory  string `json:"memory"`
	Kernel  string `json:"kernel"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Started string `json:"started"`
}

func describeMachine() (machine, error) {
	m := machine{
		CPUs:    runtime.NumCPU(),
		Go:      runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		Started: time.Now().UTC().Format(time.RFC3339),
	}
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return m, err
	}
	m.CPU = procField(cpuinfo, "model name")
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return m, err
	}
	var kb int64
	if _, err := fmt.Sscanf(procField(meminfo, "MemTotal"), "%d kB", &kb); err != nil {
		return m, fmt.Errorf("/proc/meminfo: MemTotal: %w", err)
	}
	m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	release, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return m, err
	}
	m.Kernel = "Linux " + strings.TrimSpace(string(release))
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		m.OS = strings.Trim(procField(bytes.ReplaceAll(b, []byte("="), []byte(":")), "PRETTY_NAME"), `"`)
	}
	return m, nil
}

// procField returns the value of the first "name: value" line of a /proc
// file.
func procField(b []byte, name string) string {
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// profile runs servers under load at the headline concurrency with a CPU
// profile: hfhooks.Server (bench/hfserver) with logs as hfhooks serve writes
// them and without, and hfhooks.Server on a fresh SQLite queue, intake
// only (bench/hfserver -queue -workers=false) and with its workers running
// the deliveries and logging as hfhooks serve --queue sqlite does; it
// writes each profile and its top functions to the output directory.
func (h *harness) profile(ctx context.Context) error {
	for _, variant := range []struct {
		name, key string
		extra     []string
		// args, if set, replaces the server's command line.
		args func(h *harness, addr, dsn string) []string
	}{
		{"hfsync-log", profileKey, []string{"-log"}, nil},
		{"hfsync", profileKey, nil, nil},
		{"hfdurable-sqlite-intake", "sqlite-intake", nil, nil},
		{"hfdurable-sqlite", "sqlite-intake", nil, workersArgs},
	} {
		srv, _ := serverByKey(variant.key)
		if variant.args != nil {
			srv.args = variant.args
		}
		prof := filepath.Join(h.out, variant.name+".cpu.pprof")
		p, err := h.start(srv, append(variant.extra, "-cpuprofile", prof)...)
		if err != nil {
			return err
		}
		_, err = p.waitReady(ctx)
		var lr loadRun
		if err == nil {
			lr, err = h.drive(ctx, p, h.Conns[0])
		}
		if stopErr := p.stop(); err == nil {
			err = stopErr
		}
		if err != nil {
			return err
		}
		if lr.Failure != "" {
			return errors.New(variant.name + " under profile: " + lr.Failure)
		}
		log.Printf("profile %s: %s", variant.name, lr.summary)
		cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=60", h.bin(srv.binary), prof)
		top, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("go tool pprof: %w", err)
		}
		txt := filepath.Join(h.out, variant.name+".cpu.txt")
		if err := os.WriteFile(txt, top, 0o644); err != nil {
			return err
		}
		log.Printf("wrote %s and %s", prof, txt)
	}
	return nil
}
