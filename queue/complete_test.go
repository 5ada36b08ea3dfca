package queue

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// completeParams are the completer's parameters of jobs that succeeded at
// finished.
func completeParams(finished time.Time, ids ...int64) *riverdriver.JobSetStateIfRunningManyParams {
	p := &riverdriver.JobSetStateIfRunningManyParams{}
	for _, id := range ids {
		set := riverdriver.JobSetStateCompleted(id, finished, nil)
		p.ID = append(p.ID, id)
		p.Attempt = append(p.Attempt, set.Attempt)
		p.ErrData = append(p.ErrData, set.ErrData)
		p.FinalizedAt = append(p.FinalizedAt, set.FinalizedAt)
		p.MetadataDoMerge = append(p.MetadataDoMerge, set.MetadataDoMerge)
		p.MetadataUpdates = append(p.MetadataUpdates, set.MetadataUpdates)
		p.ScheduledAt = append(p.ScheduledAt, set.ScheduledAt)
		p.State = append(p.State, set.State)
	}
	return p
}

func TestCompleteMany(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := openSQLiteFile(t, filepath.Join(t.TempDir(), "hfhooks.db")) // workers not started
	enqueueN(t, q, "complete", 3)
	b := q.db.(*sqliteBackend)
	db := b.client.Driver().(wakeDriver).db
	page, err := b.list(ctx, statesOf(""), 10, 0)
	if err != nil || len(page.Deliveries) != 3 {
		t.Fatalf("list = %d deliveries, %v; want 3", len(page.Deliveries), err)
	}
	var ids []int64
	for _, d := range page.Deliveries {
		id, _ := strconv.ParseInt(d.ID, 10, 64)
		ids = append(ids, id)
	}
	// Two of the jobs run; the third is still available.
	if _, err := db.ExecContext(ctx, "UPDATE river_job SET state = 'running', attempt = 1, attempted_at = datetime('now', 'subsec') WHERE id IN (?, ?)", ids[0], ids[1]); err != nil {
		t.Fatal(err)
	}
	finished := time.Now().Add(time.Second).UTC().Round(time.Millisecond)

	// A batch with a failure is left to River's driver, untouched.
	mixed := completeParams(finished, ids[0])
	mixed.State[0], mixed.ErrData[0] = rivertype.JobStateRetryable, []byte(`{}`)
	if jobs, rest, err := completeMany(ctx, db, mixed); err != nil || len(jobs) > 0 || rest != mixed {
		t.Fatalf("completeMany(a failure) = %d jobs, rest %p, %v; want none, the params (%p), nil", len(jobs), rest, err, mixed)
	}

	jobs, rest, err := completeMany(ctx, db, completeParams(finished, ids...))
	if err != nil {
		t.Fatal(err)
	}
	var completed []int64
	for _, job := range jobs {
		completed = append(completed, job.ID)
		if job.State != rivertype.JobStateCompleted || job.Kind != (deliveryArgs{}).Kind() || job.Attempt != 1 {
			t.Errorf("job %d returned as %s, kind %q, attempt %d; want completed, %q, 1", job.ID, job.State, job.Kind, job.Attempt, deliveryArgs{}.Kind())
		}
	}
	slices.Sort(completed)
	if want := []int64{min(ids[0], ids[1]), max(ids[0], ids[1])}; !slices.Equal(completed, want) {
		t.Fatalf("completed %v, want the running jobs %v", completed, want)
	}
	if rest == nil || !slices.Equal(rest.ID, ids[2:]) || rest.State[0] != rivertype.JobStateCompleted {
		t.Fatalf("rest = %+v, want the job that was not running, %d", rest, ids[2])
	}
	for _, id := range ids[:2] {
		job, err := b.client.JobGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if job.State != rivertype.JobStateCompleted || job.FinalizedAt == nil || !job.FinalizedAt.Equal(finished) {
			t.Errorf("job %d is %s, finalized at %v; want completed at %v", id, job.State, job.FinalizedAt, finished)
		}
	}
}
