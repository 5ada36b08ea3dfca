// Command hfsync serves one hfhooks.Server with a no-op handler at
// /webhooks/inbox: the library's whole synchronous request path (secret,
// size limit, decode and validation, dispatch, metrics, delivery history)
// with nothing of the application's on top. The benchmark runs it beside
// "hfhooks serve" to tell the request path's cost from the CLI's logging.
//
// Usage:
//
//	hfsync -addr 127.0.0.1:PORT -secret SECRET [-log] [-cpuprofile FILE]
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
	"runtime/pprof"

	"github.com/hfhooks/hfhooks"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:7860", "`HOST:PORT` to listen on")
	secret := flag.String("secret", "", "the webhook `SECRET` requests must carry")
	logDeliveries := flag.Bool("log", false, "log each delivery as text on stderr, as hfhooks serve does (default: no logs)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to `FILE`")
	flag.Parse()

	logger := slog.New(slog.DiscardHandler)
	if *logDeliveries {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	srv := hfhooks.NewServer(
		hfhooks.WithAddr(*addr),
		hfhooks.WithSecret(*secret),
		hfhooks.WithLogger(logger),
		hfhooks.WithOutput(io.Discard),
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
	return srv.Run(context.Background())
}
