// Command limit is the benchmark's ceiling: a bare net/http server whose
// webhook handler checks the secret header, reads the body and answers 200
// with no body. No webhook receiver written with net/http can be faster on
// the same machine, so the other servers are quoted as a fraction of it.
//
// Usage:
//
//	limit -addr 127.0.0.1:PORT -secret SECRET
//
// It serves POST /webhooks/<anything> and GET /healthz, and stops on SIGINT
// or SIGTERM.
package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7860", "`HOST:PORT` to listen on")
	secret := flag.String("secret", "", "the X-Webhook-Secret value requests must carry")
	flag.Parse()

	want := []byte(*secret)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/", func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Webhook-Secret")), want) != 1 {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: *addr, Handler: mux}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
