package queue

import (
	"bytes"
	"context"
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
	"github.com/riverqueue/river/rivertype"
)

// BenchmarkIntake measures deliveries acknowledged per second and the p99
// time to acknowledge, through the Server's ServeHTTP in process (no
// sockets: on a 2-core machine an HTTP client and server on loopback cap
// near the rates measured here): sync mode (the handler runs on the request
// path), then durable mode on SQLite and PostgreSQL, at concurrency 1 and
// 32, with the queue's workers running and without ("intake-only").
//
// For each database it first measures the ceiling: River inserting the
// same jobs straight into the same database with InsertMany, in batches of
// 100 (and of 32, the most that 32 concurrent deliveries can batch), with
// no HTTP and no deduplication. Each durable case then also reports its
// rate as a share of the batches-of-100 ceiling of the same run
// ("ceiling-%").
//
//	go test ./queue -run '^$' -bench Intake -benchtime 10000x -count 3
func BenchmarkIntake(b *testing.B) {
	noop := func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil }
	concurrencies := []int{1, 32}
	for _, conc := range concurrencies {
		b.Run(fmt.Sprintf("sync/c%d", conc), func(b *testing.B) {
			srv := hfhooks.NewServer(hfhooks.WithSecret(testSecret), hfhooks.WithLogger(slog.New(slog.DiscardHandler)))
			srv.AddEndpoint("hook", noop)
			benchHTTP(b, srv, conc)
		})
	}
	for _, bc := range backends() {
		var ceiling float64 // acks/s of the batches-of-100 ceiling
		for _, size := range []int{100, 32} {
			b.Run(fmt.Sprintf("%s/ceiling-insertmany-%d", bc.name, size), func(b *testing.B) {
				rate := benchInsertMany(b, openQueue(b, bc), size)
				if size == 100 {
					ceiling = rate
				}
			})
		}
		for _, workers := range []bool{true, false} {
			for _, conc := range concurrencies {
				name := fmt.Sprintf("%s/c%d", bc.name, conc)
				if !workers {
					name += "-intake-only"
				}
				b.Run(name, func(b *testing.B) {
					q := openQueue(b, bc)
					srv := hfhooks.NewServer(hfhooks.WithQueue(q), hfhooks.WithSecret(testSecret), hfhooks.WithLogger(slog.New(slog.DiscardHandler)))
					srv.AddEndpoint("hook", noop)
					if workers {
						if err := q.Start(context.Background(), srv); err != nil {
							b.Fatal(err)
						}
					}
					rate := benchHTTP(b, srv, conc)
					if ceiling > 0 {
						b.ReportMetric(100*rate/ceiling, "ceiling-%")
					}
				})
			}
		}
	}
}

// benchInsertMany inserts b.N deliveries' jobs with River's InsertMany, size
// at a time, and reports and returns acks/s.
func benchInsertMany(b *testing.B, q *Queue, size int) float64 {
	args := make([]river.InsertManyParams, b.N)
	for i, body := range benchBodies(b, b.N) {
		p, err := hfhooks.DecodePayload(body)
		if err != nil {
			b.Fatal(err)
		}
		d := &hfhooks.Delivery{Endpoint: "hook", Payload: p, Body: body, Header: http.Header{}, ReceivedAt: time.Now()}
		args[i] = InsertParams(d)
	}
	b.ResetTimer()
	start := time.Now()
	for batch := range slices.Chunk(args, size) {
		if _, err := insertMany(b.Context(), q.db, batch); err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(b.N) / time.Since(start).Seconds()
	b.ReportMetric(rate, "acks/s")
	return rate
}

// insertMany inserts straight with the backend's River client.
func insertMany(ctx context.Context, db backend, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	switch rb := db.(type) {
	case *sqliteBackend:
		return rb.client.InsertMany(ctx, params)
	case *riverBackend[pgx.Tx]:
		return rb.client.InsertMany(ctx, params)
	}
	return nil, fmt.Errorf("insertMany: backend %T", db)
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

// benchHTTP posts b.N distinct deliveries to h from conc goroutines,
// reports acks/s and the p99 time to acknowledge, and returns acks/s.
func benchHTTP(b *testing.B, h http.Handler, conc int) float64 {
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
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "acks/s")
	b.ReportMetric(float64(lat[b.N*99/100].Microseconds())/1000, "p99-ms")
	return rate
}
