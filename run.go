package hfhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hfhooks/hfhooks/internal/web"
)

// Addr returns the address Run listens on: the one given with WithAddr,
// else 0.0.0.0:7860 on a Space (SPACE_ID is set), else 127.0.0.1:7860.
func (s *Server) Addr() string {
	switch {
	case s.cfg.addr != "":
		return s.cfg.addr
	case s.space.id != "":
		return "0.0.0.0:" + DefaultPort
	}
	return "127.0.0.1:" + DefaultPort
}

// Run listens on Addr and serves until ctx is done or the process gets
// SIGINT or SIGTERM; then it stops accepting requests and waits, up to the
// shutdown grace period, for in-flight requests and handlers to finish,
// logging what it waits for. A second signal stops it at once (see Close).
func (s *Server) Run(ctx context.Context) error {
	if err := s.configErr(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.Addr())
	if err != nil {
		return fmt.Errorf("hfhooks: %w", err)
	}
	ctx, stop := s.NotifyContext(ctx)
	defer stop()
	return s.Serve(ctx, ln)
}

// interrupted is the cause of the end of a context from NotifyContext: the
// signal the process got.
type interrupted struct {
	signal os.Signal
}

func (e *interrupted) Error() string { return "got " + e.signal.String() }

// NotifyContext returns a copy of parent that is done when the process gets
// SIGINT or SIGTERM: give it to Serve, which then shuts down gracefully and
// logs what it waits for. A second signal, or a first one once parent is
// done, calls Close. stop releases the signals; Run does all this.
func (s *Server) NotifyContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case v := <-sig:
			cancel(&interrupted{signal: v})
		case <-ctx.Done():
		case <-done:
			return
		}
		select {
		case v := <-sig:
			s.log.Warn("got a second signal", "signal", v.String())
			s.Close()
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sig)
			close(done)
			cancel(context.Canceled)
		})
	}
}

// Serve is Run on a listener of the caller's, until ctx is done or Close is
// called; it installs no signal handler (see NotifyContext). In durable mode
// it starts the queue's workers before it accepts requests and, at shutdown,
// stops taking requests first, then stops the queue: running handlers get
// the rest of the grace period and queued deliveries stay queued for the
// next start.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.configErr(); err != nil {
		return err
	}
	if q := s.cfg.queue; q != nil {
		if err := q.Start(s.handlerCtx, s); err != nil {
			return fmt.Errorf("hfhooks: starting the queue: %w", err)
		}
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      s.cfg.responseDeadline + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	s.printBanner(web.ListenURL(ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	var err error
	select {
	case err = <-errc:
		err = fmt.Errorf("hfhooks: %w", err)
	case <-ctx.Done():
		s.logShutdown(ctx)
	case <-s.closed.Done():
	}
	graceCtx, cancel := context.WithTimeout(s.closed, s.cfg.shutdownGrace)
	defer cancel()
	if serr := hs.Shutdown(graceCtx); serr != nil {
		err = errors.Join(err, serr)
	}
	if q := s.cfg.queue; q != nil {
		if qerr := q.Stop(graceCtx); qerr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the queue: %w", qerr))
		}
	}
	if herr := s.Shutdown(graceCtx); herr != nil {
		err = errors.Join(err, herr)
	}
	switch {
	case s.closed.Err() != nil:
		return errors.New("hfhooks: stopped at once: running handlers were cancelled")
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("hfhooks: shutdown: %w", err)
	}
	return err
}

// configErr is why the server's configuration does not let it start.
func (s *Server) configErr() error {
	if s.gateErr != nil {
		return fmt.Errorf("hfhooks: access to the page: %w", s.gateErr)
	}
	return nil
}

// logShutdown says that shutdown begins, why, and what it waits for.
func (s *Server) logShutdown(ctx context.Context) {
	msg := "shutting down"
	var intr *interrupted
	if errors.As(context.Cause(ctx), &intr) {
		msg += " on " + intr.signal.String()
	}
	n, which := s.running.summary()
	if n > 0 {
		msg += fmt.Sprintf(": waiting for %s to finish (%s), grace %s left", deliveries(n), which, s.cfg.shutdownGrace)
		if intr != nil {
			msg += "; press Ctrl-C again (or send another SIGTERM) to stop now"
		}
	}
	s.log.Info(msg, "running", n, "grace", s.cfg.shutdownGrace)
}

// printBanner prints the start-up instructions huggingface_hub prints.
func (s *Server) printBanner(localURL string) {
	base := localURL
	if s.space.host != "" {
		base = "https://" + s.space.host
	}
	var b strings.Builder
	if len(s.secrets) > 0 {
		b.WriteString("Webhook secret is correctly defined.\n")
	} else {
		b.WriteString("Webhook secret is not defined. This means your webhook endpoints will be open to everyone.\n" +
			"To add a secret, set `WEBHOOK_SECRET` as environment variable or pass it at initialization:\n" +
			"\t`hfhooks.NewServer(hfhooks.WithSecret(\"my_secret\"))` or `hfhooks serve --secret my_secret`\n" +
			"For more details about webhook secrets, please refer to https://huggingface.co/docs/hub/webhooks#webhook-secret.\n")
		s.log.Warn("webhook secret is not defined: endpoints are open to everyone")
	}
	fmt.Fprintf(&b, "Running on local URL:  %s\n\nWebhooks are correctly setup and ready to use:\n", localURL)
	for _, name := range s.Endpoints() {
		fmt.Fprintf(&b, "  - POST %s/webhooks/%s\n", base, name)
	}
	b.WriteString("Go to https://huggingface.co/settings/webhooks to setup your webhooks.\n")
	b.WriteString(s.gate.Summary(localURL) + "\n")
	if w := s.gate.Warning(localURL); w != "" {
		s.log.Warn(w)
	}
	_, _ = fmt.Fprint(s.cfg.out, b.String())
}

// The default server behind Endpoint and Run, created on first use as
// huggingface_hub's webhook_endpoint creates its global WebhooksServer.
var (
	defaultOnce   sync.Once
	defaultServer *Server
	defaultErrs   []error
	defaultMu     sync.Mutex
)

// DefaultServer returns the server that Endpoint registers on and Run runs.
func DefaultServer() *Server {
	defaultOnce.Do(func() { defaultServer = NewServer() })
	return defaultServer
}

// Endpoint registers h on the default server as the endpoint
// /webhooks/<name>: the Go form of huggingface_hub's @webhook_endpoint. A
// registration error (a duplicate name, say) is returned by Run, which then
// does not start.
func Endpoint(name string, h HandlerFunc) {
	if err := DefaultServer().AddEndpoint(name, h); err != nil {
		defaultMu.Lock()
		defaultErrs = append(defaultErrs, err)
		defaultMu.Unlock()
	}
}

// Run runs the default server until SIGINT or SIGTERM (see Server.Run).
func Run() error {
	defaultMu.Lock()
	err := errors.Join(defaultErrs...)
	defaultMu.Unlock()
	if err != nil {
		return err
	}
	return DefaultServer().Run(context.Background())
}
