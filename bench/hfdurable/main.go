// Command hfdurable serves one hfhooks.Server in durable mode (a queue of
// package queue) with a no-op handler at /webhooks/inbox and no logs. With
// -workers=false the queue's workers are not started: deliveries are only
// committed ("intake only"), which is what River's own insert rate, the
// durable rows' ceiling, compares with. The benchmark runs it beside
// "hfhooks serve --queue ..." to tell the cost of intake from the cost of
// running the deliveries on the same cores.
//
// Usage:
//
//	hfdurable -addr 127.0.0.1:PORT -secret SECRET -queue sqlite:PATH|postgres://... [-workers=false] [-cpuprofile FILE]
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
	dsn := flag.String("queue", "", "the queue: sqlite:`PATH` or postgres://...")
	workers := flag.Bool("workers", true, "run the queued deliveries (false: commit them only)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to `FILE`")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.DiscardHandler)
	q, err := queue.Open(ctx, *dsn, queue.WithLogger(logger))
	if err != nil {
		return err
	}
	defer q.Close()
	var hq hfhooks.Queue = q
	if !*workers {
		hq = intakeOnly{q}
	}
	srv := hfhooks.NewServer(
		hfhooks.WithAddr(*addr),
		hfhooks.WithSecret(*secret),
		hfhooks.WithLogger(logger),
		hfhooks.WithOutput(io.Discard),
		hfhooks.WithQueue(hq),
	)
	noop := func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil }
	if err := srv.AddWebhook("inbox", noop); err != nil {
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
