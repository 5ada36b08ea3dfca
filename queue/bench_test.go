package queue

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// BenchmarkIntake measures deliveries acknowledged per second and the p99
// time to acknowledge, through the Server's ServeHTTP in process (no
// sockets: on a 2-core machine an HTTP client and server on loopback cap
// near the rates measured here), with the queue's workers running:
// sync mode (the handler runs on the request path), then durable mode on
// SQLite and PostgreSQL, at concurrency 1 and 32. The ceiling is River
// inserting the same jobs in batches of 100 straight into the same
// database, with no HTTP and no deduplication.
//
//	go test ./queue -run '^$' -bench Intake -benchtime 3000x
func BenchmarkIntake(b *testing.B) {
	noop := func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil }
	for _, conc := range []int{1, 32} {
		b.Run(fmt.Sprintf("sync/c%d", conc), func(b *testing.B) {
			srv := hfhooks.NewServer(hfhooks.WithSecret(testSecret), hfhooks.WithLogger(slog.New(slog.DiscardHandler)))
			srv.AddWebhook("hook", noop)
			benchHTTP(b, srv, conc)
		})
	}
	for _, bc := range backends() {
		for _, conc := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/c%d", bc.name, conc), func(b *testing.B) {
				d := startDurable(b, openQueue(b, bc), map[string]hfhooks.HandlerFunc{"hook": noop})
				benchHTTP(b, d.srv, conc)
			})
			b.Run(fmt.Sprintf("%s/c%d-intake-only", bc.name, conc), func(b *testing.B) {
				srv := hfhooks.NewServer(hfhooks.WithQueue(openQueue(b, bc)), hfhooks.WithSecret(testSecret), hfhooks.WithLogger(slog.New(slog.DiscardHandler)))
				srv.AddWebhook("hook", noop)
				benchHTTP(b, srv, conc)
			})
		}
		b.Run(bc.name+"/ceiling-insertmany-100", func(b *testing.B) {
			q := openQueue(b, bc)
			bodies := benchBodies(b, b.N)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i += 100 {
				var params []river.InsertManyParams
				for _, body := range bodies[i:min(i+100, b.N)] {
					params = append(params, river.InsertManyParams{Args: deliveryArgs{Endpoint: "hook", Body: body, ReceivedAt: time.Now()}})
				}
				if err := insertMany(b.Context(), q.db, params); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "acks/s")
		})
	}
}

// insertMany inserts straight with the backend's River client.
func insertMany(ctx context.Context, db backend, params []river.InsertManyParams) error {
	var err error
	switch rb := db.(type) {
	case *riverBackend[*sql.Tx]:
		_, err = rb.client.InsertMany(ctx, params)
	case *riverBackend[pgx.Tx]:
		_, err = rb.client.InsertMany(ctx, params)
	}
	return err
}

// benchBodies returns n distinct valid payloads.
func benchBodies(b *testing.B, n int) [][]byte {
	template := payload(b, "acme/bench-NNNNNNNN")
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = bytes.Replace(template, []byte("NNNNNNNN"), fmt.Appendf(nil, "%08d", i), 1)
	}
	return bodies
}

// benchHTTP posts b.N distinct deliveries to h from conc goroutines, and
// reports acks/s and the p99 time to acknowledge.
func benchHTTP(b *testing.B, h http.Handler, conc int) {
	bodies := benchBodies(b, b.N)
	lat := make([]time.Duration, b.N)
	work := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for i := range work {
				t0 := time.Now()
				req := httptest.NewRequest(http.MethodPost, "/webhooks/hook", bytes.NewReader(bodies[i]))
				req.Header.Set(hfhooks.SecretHeader, testSecret)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code/100 != 2 {
					b.Errorf("status %d: %s", rec.Code, rec.Body)
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	for i := range b.N {
		work <- i
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "acks/s")
	b.ReportMetric(float64(lat[b.N*99/100].Microseconds())/1000, "p99-ms")
}
