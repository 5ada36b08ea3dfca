package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/sample"
	"github.com/jackc/pgx/v5"
)

// The crash tests run "hfhooks serve" as child processes, send deliveries
// concurrently, SIGKILL a process part-way, and check that every delivery
// answered with a 2xx was processed (the inbox hook's command ran to
// completion and appended "ID REPO" to a log file), by one job only, and
// that a job ran more than once only when its process died under it (a job
// never runs more times than it has attempts).

const crashDeliveries = 300

// crashConfig writes a hooks.yaml into dir whose inbox hook appends "ID
// REPO" to runs.log in dir, and returns the path of the file and of the log.
func crashConfig(t *testing.T, dir string) (config, log string) {
	t.Helper()
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	log = filepath.Join(dir, "runs.log")
	config = writeConfig(t, dir, `
hooks:
  - name: inbox
    run:
      command: [sh, -c, 'echo "$WEBHOOK_DELIVERY_ID $WEBHOOK_REPO_ID" >> `+log+`']
`)
	return config, log
}

// proc is a running "hfhooks serve".
type proc struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	exited chan struct{}
}

// startProc starts "hfhooks serve" with args on a free port and waits for
// its banner. The process is killed when the test ends.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := hfhooksCmd(t, append([]string{"serve", "--addr", "127.0.0.1:0", "--secret", "s"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	urlc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`Running on local URL:\s+(\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case p.url = <-urlc:
	case <-p.exited:
		t.Fatalf("hfhooks serve exited:\n%s", p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("hfhooks serve did not start:\n%s", p.stderr)
	}
	return p
}

func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// crashRepo is the repository of delivery i of a test run.
func crashRepo(run string, i int) string {
	return fmt.Sprintf("crash-%s/repo-%d", run, i)
}

// crashBody is the body of delivery i of a test run.
func crashBody(t *testing.T, run string, i int) []byte {
	t.Helper()
	m, err := sample.Build("repo.content", sample.Options{RepoName: crashRepo(run, i), WebhookID: "6540a7b9c8d7e6f5a4b3c2d1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sendAll sends crashDeliveries deliveries, 32 at a time, each to the
// process target(i) picks; afterAcks is called once, after that many acks.
// It returns the repository of every delivery answered with a 2xx.
func sendAll(t *testing.T, run string, target func(i int) string, afterAcks int, then func()) map[string]bool {
	t.Helper()
	var mu sync.Mutex
	acked := map[string]bool{}
	var once sync.Once
	work := make(chan int)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 32 {
		wg.Go(func() {
			for i := range work {
				body := crashBody(t, run, i)
				req, _ := http.NewRequest(http.MethodPost, target(i)+"/webhooks/inbox", bytes.NewReader(body))
				req.Header.Set(hfhooks.SecretHeader, "s")
				resp, err := client.Do(req)
				if err != nil {
					continue // the process is dead: no answer, no promise
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					continue
				}
				mu.Lock()
				acked[crashRepo(run, i)] = true
				n := len(acked)
				mu.Unlock()
				if n == afterAcks {
					once.Do(then)
				}
			}
		})
	}
	for i := range crashDeliveries {
		work <- i
	}
	close(work)
	wg.Wait()
	return acked
}

// runsOf reads the inbox log: the delivery IDs that ran, by repository.
func runsOf(t *testing.T, path string) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	runs := map[string][]string{}
	for line := range strings.Lines(string(raw)) {
		id, repo, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok {
			runs[repo] = append(runs[repo], id)
		}
	}
	return runs
}

// attemptsOf reads, from a process's /api/deliveries, the attempts of every
// succeeded delivery.
func attemptsOf(t *testing.T, url string) map[string]int {
	t.Helper()
	attempts := map[string]int{}
	before := ""
	for {
		resp, err := http.Get(url + "/api/deliveries?state=succeeded&limit=500&before=" + before)
		if err != nil {
			t.Fatal(err)
		}
		var page hfhooks.HistoryPage
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range page.Deliveries {
			attempts[rec.ID] = rec.Attempts
		}
		if page.Next == "" {
			return attempts
		}
		before = page.Next
	}
}

// checkProcessed waits, for up to within, until every acked delivery has
// run and succeeded, then checks that each ran under one delivery ID, and
// no more often than its attempts.
func checkProcessed(t *testing.T, acked map[string]bool, logPath, url string, within time.Duration) {
	t.Helper()
	if len(acked) < 50 {
		t.Fatalf("only %d deliveries acknowledged", len(acked))
	}
	start := time.Now()
	deadline := start.Add(within)
	for {
		runs, attempts := runsOf(t, logPath), attemptsOf(t, url)
		pending := 0
		for repo := range acked {
			if ids := runs[repo]; len(ids) == 0 || attempts[ids[len(ids)-1]] == 0 {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged deliveries not processed within %v", pending, len(acked), within)
		}
		time.Sleep(100 * time.Millisecond)
	}
	attempts := attemptsOf(t, url)
	reruns := 0
	for repo, ids := range runsOf(t, logPath) {
		count := map[string]int{}
		for _, id := range ids {
			count[id]++
		}
		if len(count) != 1 {
			t.Errorf("the delivery of %s ran as %d deliveries %v: want one", repo, len(count), ids)
		}
		for id, n := range count {
			if n > 1 {
				reruns++
			}
			if n > attempts[id] {
				t.Errorf("delivery %s ran %d times in %d attempts", id, n, attempts[id])
			}
		}
	}
	t.Logf("%d deliveries acknowledged, all processed once, within %v; %d ran again because their process died under them", len(acked), time.Since(start).Round(time.Millisecond), reruns)
}

func TestCrashSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	config, logPath := crashConfig(t, dir)
	args := []string{"--config", config, "--queue", "sqlite:" + filepath.Join(dir, "q.db"), "--attempt-timeout", "1s"}
	p := startProc(t, args...)
	acked := sendAll(t, "sqlite", func(int) string { return p.url }, crashDeliveries/3, p.kill)
	// The restarted process owns the file: the deliveries that were running
	// in the killed one run again at once, not after River's rescuer.
	p = startProc(t, args...)
	checkProcessed(t, acked, logPath, p.url, 15*time.Second)
}

// TestServeRefusesAnSQLiteFileInUse starts a second "hfhooks serve" on the
// SQLite file of a running one: it exits 1, saying what to do.
func TestServeRefusesAnSQLiteFileInUse(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "q.db")
	startProc(t, "--queue", "sqlite:"+db)
	cmd := hfhooksCmd(t, "serve", "--addr", "127.0.0.1:0", "--queue", "sqlite:"+db)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var exit *exec.ExitError
	if err := cmd.Run(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("second hfhooks serve: %v, want exit code 1\n%s", err, &stderr)
	}
	for _, want := range []string{"Error: queue: the SQLite file is in use: ", db, "--queue sqlite:OTHER.db", "PostgreSQL"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, &stderr)
		}
	}
}

func TestCrashPostgresTwoProcesses(t *testing.T) {
	t.Parallel()
	base := os.Getenv("HFHOOKS_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set HFHOOKS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them")
	}
	dir := t.TempDir()
	config, logPath := crashConfig(t, dir)
	schema := createSchema(t, base)
	dsn := base + "&search_path=" + schema
	if !strings.Contains(base, "?") {
		dsn = base + "?search_path=" + schema
	}
	args := []string{"--config", config, "--queue", dsn, "--attempt-timeout", "1s"}
	a := startProc(t, args...)
	b := startProc(t, args...)
	var dead sync.Mutex
	killed := false
	target := func(i int) string {
		dead.Lock()
		defer dead.Unlock()
		if i%2 == 0 && !killed {
			return a.url
		}
		return b.url
	}
	acked := sendAll(t, "postgres", target, crashDeliveries/3, func() {
		a.kill()
		dead.Lock()
		killed = true
		dead.Unlock()
	})
	// River's rescuer runs every 30 s, once the attempt timeout and 10 s
	// have passed.
	checkProcessed(t, acked, logPath, b.url, 100*time.Second)
}

// createSchema creates a schema of the test's own, dropped at its end.
func createSchema(t *testing.T, url string) string {
	t.Helper()
	var r [6]byte
	_, _ = rand.Read(r[:])
	schema := "hfhooks_crash_" + hex.EncodeToString(r[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	return schema
}
