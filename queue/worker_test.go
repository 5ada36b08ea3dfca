package queue

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// Another program's River client, sharing the queue's PostgreSQL database,
// inserts a delivery from InsertParams in its own transaction: the job
// lands in the endpoint's River queue with kind JobKind and no secret
// header, and the queue's workers run it.
func TestInsertParamsJobIsRun(t *testing.T) {
	t.Parallel()
	bc := backends()[1]
	q := openQueue(t, bc)
	got := make(chan *hfhooks.Delivery, 1)
	startDurable(t, q, map[string]hfhooks.HandlerFunc{
		"inbox": func(_ context.Context, d *hfhooks.Delivery) (any, error) {
			got <- d
			return nil, nil
		},
	})

	ctx := t.Context()
	cfg, err := pgxpool.ParseConfig(postgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{testSchema(t)}.Sanitize()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{SkipUnknownJobCheck: true})
	if err != nil {
		t.Fatal(err)
	}

	body := payload(t, "acme/insert-params")
	p, err := hfhooks.DecodePayload(body)
	if err != nil {
		t.Fatal(err)
	}
	header := http.Header{"Content-Type": {"application/json"}, hfhooks.SecretHeader: {testSecret}}
	d := &hfhooks.Delivery{Endpoint: "inbox", Payload: p, Body: body, Header: header, ReceivedAt: time.Now()}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.InsertManyTx(ctx, tx, []river.InsertManyParams{InsertParams(d)})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if job := res[0].Job; job.Kind != JobKind || job.Queue != riverQueue("inbox") {
		t.Errorf("job of kind %q in queue %q; want %q in %q", job.Kind, job.Queue, JobKind, riverQueue("inbox"))
	}
	select {
	case run := <-got:
		if string(run.Body) != string(body) || run.Payload.Repo.Name != "acme/insert-params" {
			t.Errorf("handler got body %q, repo %q", run.Body, run.Payload.Repo.Name)
		}
		if run.Header.Get(hfhooks.SecretHeader) != "" || run.Header.Get("Content-Type") != "application/json" {
			t.Errorf("handler got header %v; want its Content-Type and no secret", run.Header)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the queue's workers did not run the inserted job")
	}
}
