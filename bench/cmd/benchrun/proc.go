package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Time limits of a server's life.
const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
)

// proc is a running server.
type proc struct {
	srv     server
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	logPath string
	started time.Time
	exited  chan struct{} // closed when the process has exited
	waitErr error
	// drop throws away the fresh database of a durable row, once the
	// server has stopped (nil for the others).
	drop func() error
}

// freeAddr returns a loopback address with a port free at the time of the
// call.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func splitAddr(addr string) (host, port string) {
	host, port, _ = net.SplitHostPort(addr)
	return host, port
}

// start starts s on a free loopback port, with its output in
// <out>/logs/<key>.log, plus extra arguments; a durable row gets a fresh
// database.
func (h *harness) start(s server, extra ...string) (p *proc, err error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var dsn string
	var drop func() error
	if s.db != "" {
		if dsn, drop, err = h.freshDB(s.db); err != nil {
			return nil, fmt.Errorf("%s: %w", s.key, err)
		}
		defer func() {
			if err != nil {
				err = errors.Join(err, drop())
			}
		}()
	}
	logPath := filepath.Join(h.out, "logs", s.key+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own copy
	argv := append(s.args(h, addr, dsn), extra...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = h.root
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret, "PYTHONDONTWRITEBYTECODE=1", "PYTHONNOUSERSITE=1")
	// A process group of its own, so that a server's workers can be
	// stopped with it and a Ctrl-C in the terminal reaches only the harness.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p = &proc{srv: s, cmd: cmd, base: "http://" + addr, logPath: logPath, exited: make(chan struct{}), drop: drop}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.key, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// client is for health checks and preflight requests, never for load.
var client = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// waitReady waits for the first 200 on /healthz and returns the time from
// exec to then; then, for a server with several workers, it waits for all
// of them to be up.
func (p *proc) waitReady(ctx context.Context) (time.Duration, error) {
	deadline := time.Now().Add(readyTimeout)
	var startup time.Duration
	for {
		if err := p.alive(ctx, deadline); err != nil {
			return 0, err
		}
		resp, err := client.Get(p.base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				startup = time.Since(p.started)
				break
			}
		}
		// Poll fast while a Go server is likely to come up, then ease off
		// so as not to slow down a server that takes longer.
		pause := time.Millisecond
		if time.Since(p.started) > 100*time.Millisecond {
			pause = 5 * time.Millisecond
		}
		time.Sleep(pause)
	}
	for p.srv.workers > 1 {
		if err := p.alive(ctx, deadline); err != nil {
			return 0, err
		}
		b, err := os.ReadFile(p.logPath)
		if err != nil {
			return 0, err
		}
		if bytes.Count(b, []byte("Application startup complete.")) >= p.srv.workers {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return startup, nil
}

// alive returns an error if the process has exited, ctx is done or the
// deadline has passed.
func (p *proc) alive(ctx context.Context, deadline time.Time) error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v) before it was ready:\n%s", p.srv.key, p.waitErr, p.logTail())
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if time.Now().After(deadline) {
		return fmt.Errorf("%s not ready after %v:\n%s", p.srv.key, readyTimeout, p.logTail())
	}
	return nil
}

// logTail returns the last lines of the server's output, for error messages.
func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return "  " + strings.Join(lines[max(0, len(lines)-15):], "\n  ")
}

// preflight checks that the server does the work it is measured on: it
// accepts the payload with the secret and refuses it without.
func (p *proc) preflight(body []byte) error {
	for _, c := range []struct {
		secret string
		ok     func(code int) bool
		want   string
	}{
		{secret, func(code int) bool { return code >= 200 && code <= 299 }, "2xx"},
		{"wrong-" + secret, func(code int) bool { return code == 401 || code == 403 }, "401 or 403"},
	} {
		req, err := http.NewRequest(http.MethodPost, p.base+webhookPath, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header = requestHeader(c.secret)
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("%s preflight: %w", p.srv.key, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !c.ok(resp.StatusCode) {
			return fmt.Errorf("%s preflight with secret %q: status %d, want %s: %s", p.srv.key, c.secret, resp.StatusCode, c.want, got)
		}
	}
	return nil
}

// stop stops the server (see terminate), then throws away its fresh
// database, if it has one.
func (p *proc) stop() error {
	err := p.terminate()
	if p.drop != nil {
		err = errors.Join(err, p.drop())
	}
	return err
}

// terminate sends SIGTERM and waits for the server to exit; after
// stopTimeout it kills the server's process group.
func (p *proc) terminate() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s had exited (%v):\n%s", p.srv.key, p.waitErr, p.logTail())
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	return fmt.Errorf("%s did not stop within %v of SIGTERM: killed", p.srv.key, stopTimeout)
}

// memory is the resident memory of a process and its descendants, in KiB:
// the sum of their VmRSS (now) and VmHWM (peak). Pages shared between
// processes, such as the interpreter's, count once per process.
type memory struct{ rss, hwm int64 }

// treeMemory reads the memory of pid and all its descendants from /proc.
func treeMemory(pid int) (memory, error) {
	var m memory
	for _, p := range descendants(pid) {
		rss, hwm, err := procMemory(p)
		if err != nil {
			if p == pid {
				return memory{}, err
			}
			continue // a child that has just exited
		}
		m.rss += rss
		m.hwm += hwm
	}
	return m, nil
}

// descendants returns pid followed by every process under it.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fields, err := statFields(child)
		if err != nil || len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			children[ppid] = append(children[ppid], child)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ, which
// is 100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// treeCPU returns the CPU time (user and system) that pid and its
// descendants have used so far.
func treeCPU(pid int) (time.Duration, error) {
	var total time.Duration
	for _, p := range descendants(pid) {
		fields, err := statFields(p)
		if err != nil || len(fields) < 13 {
			if p == pid {
				return 0, fmt.Errorf("/proc/%d/stat: %v", pid, err)
			}
			continue
		}
		// utime and stime are fields 14 and 15 of stat(5), 12 and 13
		// after the command name.
		for _, f := range fields[11:13] {
			ticks, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return 0, err
			}
			total += time.Duration(ticks) * clockTick
		}
	}
	return total, nil
}

// selfCPU returns the CPU time the harness itself has used so far: the
// load generator's, for the most part.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// statFields returns the fields of /proc/PID/stat after the command name,
// which may hold spaces and parentheses: state, ppid, and so on.
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])), nil
}

// procMemory reads VmRSS and VmHWM, in KiB, from /proc/PID/status.
func procMemory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(b)) {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			rss = kb
		} else {
			hwm = kb
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
	}
	return rss, hwm, nil
}
