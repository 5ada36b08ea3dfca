// Package action builds webhook handlers that act without Go code: Run
// starts a command with the delivery in its input and environment, Forward
// POSTs the delivery to another URL, Comment answers on the event's
// discussion or pull request as a bot, and Notify posts a message to a chat
// webhook (Slack, Discord...). Comments and messages are templates over the
// payload (see ParseTemplate). "hfhooks serve --config" builds its hooks
// from them; Go programs may register them like any handler.
//
// A handler returns an error when its action fails, so that a durable queue
// retries the delivery.
package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks"
)

// DefaultMaxOutput is how much of a command's output Run keeps when
// Command.MaxOutput is zero: the last 64 KiB.
const DefaultMaxOutput = 64 << 10

// MaxEnvPayload is the largest payload Run also passes in WEBHOOK_PAYLOAD.
// The environment of a process is limited (on Linux, a single variable to
// 128 KiB), and a delivery may carry up to 1 MiB: a larger payload is on
// stdin and in the file WEBHOOK_PAYLOAD_FILE names only, which scripts
// should prefer.
const MaxEnvPayload = 64 << 10

// waitDelay is how long Run waits for a command's output to close once the
// command has exited or been killed: a background process that inherited
// the output must not hold the run forever.
const waitDelay = 5 * time.Second

// Command is a program that Run starts for each delivery.
type Command struct {
	// Args are the program and its arguments. No shell is involved: write
	// ["sh", "-c", "..."] for one. A program name without "/" is looked up
	// in PATH; a relative path is relative to Dir.
	Args []string
	// Dir is the working directory; empty means the current one.
	Dir string
	// Env holds variables added to the environment, after the inherited
	// ones and before the WEBHOOK_ ones, which win.
	Env map[string]string
	// Timeout bounds each run; zero means no limit. When it expires, the
	// command and every process it started in its process group are
	// killed. Register the handler with hfhooks.EndpointTimeout of the same
	// value, so that a queue's attempt lasts as long; limit how many run at
	// once with hfhooks.EndpointConcurrency.
	Timeout time.Duration
	// Secret, when not empty, is passed as WEBHOOK_SECRET. It is the hook's
	// configured secret rather than the header the delivery carried: the
	// Hub may send the secret in the URL instead, and a durable queue need
	// not store request headers.
	Secret string
	// MaxOutput is how many bytes of combined stdout and stderr are kept
	// (the last ones); zero means DefaultMaxOutput.
	MaxOutput int
}

// RunResult is the result of a successful run, which the server encodes as
// the response body.
type RunResult struct {
	Status   string `json:"status"` // "ok"
	ExitCode int    `json:"exitCode"`
	// Output is the tail of the combined stdout and stderr. It is kept
	// with the delivery for the receiver's operators, and left out of the
	// JSON answer to whoever sent the delivery.
	Output string `json:"-"`
}

// DeliveryOutput returns the command's output, for the delivery history.
func (r *RunResult) DeliveryOutput() string { return r.Output }

// RunError is the error of a run that failed: the command exited with a
// non-zero code, was killed at its timeout or when its context ended, or
// could not start.
type RunError struct {
	// Program is the command's first argument.
	Program string
	// ExitCode is the command's exit code, or -1 when it was killed or did
	// not start.
	ExitCode int
	// TimedOut is true when the command was killed at Command.Timeout.
	TimedOut bool
	// Output is the tail of the combined stdout and stderr.
	Output string
	// Err is the underlying error.
	Err error
}

// DeliveryOutput returns the command's output, for the delivery history.
func (e *RunError) DeliveryOutput() string { return e.Output }

func (e *RunError) Error() string {
	msg := e.Err.Error()
	if e.ExitCode >= 0 {
		msg = "exited with code " + strconv.Itoa(e.ExitCode)
	}
	if e.Program != "" {
		msg = e.Program + ": " + msg
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *RunError) Unwrap() error { return e.Err }

// errTimeout is the cause of a run's context ending at Command.Timeout.
var errTimeout = errors.New("timed out")

// Run returns a handler that starts cmd for each delivery and waits for it.
// The command gets the raw payload on stdin and these environment variables,
// as a Job started by a Hub webhook does:
//
//	WEBHOOK_PAYLOAD       the raw payload (JSON), when it is no larger
//	                      than MaxEnvPayload
//	WEBHOOK_PAYLOAD_FILE  a file holding the raw payload, readable by the
//	                      server's user only and removed when the run ends
//	WEBHOOK_REPO_ID       the repository name, such as "user/repo"
//	WEBHOOK_REPO_TYPE     model, dataset or space
//	WEBHOOK_SCOPE         the event scope, such as repo.content
//	WEBHOOK_ACTION        the event action, such as update
//	WEBHOOK_HEAD_SHA      the head commit of main, when the payload has it
//	WEBHOOK_DELIVERY_ID   the delivery's id, the same on every retry
//	WEBHOOK_SECRET        Command.Secret, only when it is set
//
// WEBHOOK_ variables inherited from the server's environment are removed,
// so that the server's own WEBHOOK_SECRET never reaches a command that did
// not ask for it.
//
// Exit code 0 is success, with a *RunResult. Anything else is a *RunError:
// a non-zero exit, the timeout, or a cancelled context, which kill the
// command's whole process group.
func Run(cmd Command) hfhooks.HandlerFunc {
	return func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		return cmd.run(ctx, d, nil)
	}
}

// RunOnGiveUp returns a GiveUpFunc that starts cmd for a delivery a queue
// gave up on, as Run does for the delivery, with three more environment
// variables:
//
//	WEBHOOK_ENDPOINT  the endpoint the delivery was for, such as "retrain"
//	WEBHOOK_ATTEMPTS  how many times its handler was started
//	WEBHOOK_ERROR     the handler's last error (secrets redacted)
//
// A non-zero exit is an error, which the queue logs.
func RunOnGiveUp(cmd Command) hfhooks.GiveUpFunc {
	return func(ctx context.Context, g *hfhooks.GiveUp) error {
		_, err := cmd.run(ctx, g.Delivery, []string{
			"WEBHOOK_ENDPOINT=" + g.Delivery.Endpoint,
			"WEBHOOK_ATTEMPTS=" + strconv.Itoa(g.Attempts),
			"WEBHOOK_ERROR=" + g.Error,
		})
		return err
	}
}

// run starts the command once and waits for it. extra are environment
// variables set after the delivery's.
func (c *Command) run(ctx context.Context, d *hfhooks.Delivery, extra []string) (*RunResult, error) {
	if len(c.Args) == 0 {
		return nil, &RunError{ExitCode: -1, Err: errors.New("empty command")}
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.Timeout, errTimeout)
		defer cancel()
	}
	limit := c.MaxOutput
	if limit <= 0 {
		limit = DefaultMaxOutput
	}
	payload, err := payloadFile(d.Body)
	if err != nil {
		return nil, &RunError{Program: c.Args[0], ExitCode: -1, Err: err}
	}
	defer func() {
		payload.Close()
		os.Remove(payload.Name())
	}()
	out := &tailBuffer{max: limit}
	x := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	x.Dir = c.Dir
	x.Env = append(c.environ(d, payload.Name()), extra...)
	x.Stdin = payload
	x.Stdout, x.Stderr = out, out
	x.WaitDelay = waitDelay
	killGroupOnCancel(x)

	err = x.Run()
	if err == nil || errors.Is(err, exec.ErrWaitDelay) && x.ProcessState.Success() {
		// ErrWaitDelay alone: the command succeeded, but something it left
		// running kept the output open.
		return &RunResult{Status: "ok", ExitCode: 0, Output: out.String()}, nil
	}
	re := &RunError{Program: c.Args[0], ExitCode: -1, Output: out.String(), Err: err}
	switch {
	case ctx.Err() != nil:
		re.TimedOut = context.Cause(ctx) == errTimeout
		if re.TimedOut {
			re.Err = fmt.Errorf("timed out after %s and was killed", c.Timeout)
		} else {
			re.Err = fmt.Errorf("killed: %w", context.Cause(ctx))
		}
	case x.ProcessState != nil:
		re.ExitCode = x.ProcessState.ExitCode()
	}
	return nil, re
}

// payloadFile writes body to a new temporary file (mode 0600) and returns it
// open, positioned at its start, to be the command's stdin.
func payloadFile(body []byte) (*os.File, error) {
	f, err := os.CreateTemp("", "hfhooks-payload-*.json")
	if err != nil {
		return nil, fmt.Errorf("writing the payload file: %w", err)
	}
	if _, err = f.Write(body); err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("writing the payload file: %w", err)
	}
	return f, nil
}

// environ returns the command's environment: the inherited one without
// WEBHOOK_ variables, then Env, then the delivery's variables, with the
// payload in the file named payloadFile.
func (c *Command) environ(d *hfhooks.Delivery, payloadFile string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WEBHOOK_") {
			env = append(env, kv)
		}
	}
	for k, v := range c.Env {
		env = append(env, k+"="+v)
	}
	p := d.Payload
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	if len(d.Body) <= MaxEnvPayload {
		add("WEBHOOK_PAYLOAD", string(d.Body))
	}
	add("WEBHOOK_PAYLOAD_FILE", payloadFile)
	add("WEBHOOK_REPO_ID", p.Repo.Name)
	add("WEBHOOK_REPO_TYPE", string(p.Repo.Type))
	add("WEBHOOK_SCOPE", p.Event.Scope)
	add("WEBHOOK_ACTION", string(p.Event.Action))
	add("WEBHOOK_HEAD_SHA", p.Repo.HeadSha)
	add("WEBHOOK_DELIVERY_ID", d.ID)
	add("WEBHOOK_SECRET", c.Secret)
	return env
}

// tailBuffer keeps the last max bytes written to it. exec.Cmd writes to it
// from one goroutine at a time when it is both Stdout and Stderr.
type tailBuffer struct {
	max     int
	buf     []byte
	dropped int64
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > t.max {
		t.dropped += int64(len(p) - t.max)
		p = p[len(p)-t.max:]
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.dropped += int64(over)
		t.buf = t.buf[:copy(t.buf, t.buf[over:])]
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// String returns the kept bytes, after a line saying how many were dropped.
func (t *tailBuffer) String() string {
	if t.dropped == 0 {
		return string(t.buf)
	}
	return fmt.Sprintf("[... %d bytes of output dropped ...]\n%s", t.dropped, t.buf)
}
