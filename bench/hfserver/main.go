// Command hfserver serves one hfhooks.Server with a no-op handler at
// /webhooks/inbox: the library's request path without the CLI around it.
// Without -queue it runs in sync mode; with -queue it runs in durable mode
// on a queue of package queue, and with -workers=false that queue's workers
// are not started, so deliveries are only committed ("intake only"), which
// is what River's own insert rate, the durable rows' ceiling, compares with.
//
// Usage:
//
//	hfserver -addr 127.0.0.1:PORT -secret SECRET [-log] [-queue sqlite:PATH|postgres://... [-workers=false]] [-cpuprofile FILE]
//
// It stops on SIGINT or SIGTERM, and then writes the CPU profile.
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/queue"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

// intakeOnly is a queue whose workers the Server cannot start: it commits
// deliveries and runs none.
type intakeOnly struct{ *queue.Queue }

func (intakeOnly) Start(context.Context, hfhooks.Executor) error { return nil }
func (intakeOnly) Stop(context.Context) error                    { return nil }

func run() error {
	addr := flag.String("addr", "127.0.0.1:7860", "`HOST:PORT` to listen on")
	secret := flag.String("secret", "", "the webhook `SECRET` requests must carry")
	logDeliveries := flag.Bool("log", false, "log each delivery as text on stderr, as hfhooks serve does (default: no logs)")
	dsn := flag.String("queue", "", "durable mode on this queue: sqlite:`PATH` or a postgres:// URL (default: sync mode)")
	workers := flag.Bool("workers", true, "with -queue, run the queued deliveries (false: commit them only)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to `FILE`")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.DiscardHandler)
	if *logDeliveries {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	opts := []hfhooks.Option{
		hfhooks.WithAddr(*addr),
		hfhooks.WithSecret(*secret),
		hfhooks.WithLogger(logger),
		hfhooks.WithOutput(io.Discard),
	}
	if *dsn != "" {
		q, err := queue.Open(ctx, *dsn, queue.WithLogger(logger))
		if err != nil {
			return err
		}
		defer q.Close()
		var hq hfhooks.Queue = q
		if !*workers {
			hq = intakeOnly{q}
		}
		opts = append(opts, hfhooks.WithQueue(hq))
	}
	srv := hfhooks.NewServer(opts...)
	noop := func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil }
	if err := srv.AddEndpoint("inbox", noop); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return srv.Run(ctx)
}
