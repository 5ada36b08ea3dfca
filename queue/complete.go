package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// completeManySQL marks completed, at their finish times, the jobs of a
// JSON array of [id, finalized_at] that are still running, and returns
// them. It is what River's SQLite driver does for a successful job (its
// statement per job handles every other outcome too), for many jobs at
// once.
const completeManySQL = `WITH done (id, at) AS MATERIALIZED (SELECT value ->> 0, value ->> 1 FROM json_each(?))
	UPDATE river_job SET state = 'completed', finalized_at = done.at
	FROM done
	WHERE river_job.id = done.id AND river_job.state = 'running'
	RETURNING river_job.id, river_job.kind, river_job.queue, river_job.attempt, river_job.max_attempts, river_job.priority`

// completeMany records the completion of the jobs of params in one
// statement on db, when they all succeeded with no metadata to record, and
// returns their rows and, in rest, the changes left to River's driver: the
// jobs that were no longer running (River's driver returns their rows as
// they are), or all of params, untouched, when a job did not succeed or
// has metadata; rest is nil when none is left. River's SQLite driver runs a
// large statement per job, which made its completer a tenth of the CPU of
// a queue running deliveries as they come in.
//
// The rows returned carry what River's completer and the queue use, not the
// args, errors, metadata nor tags.
func completeMany(ctx context.Context, db *sql.DB, params *riverdriver.JobSetStateIfRunningManyParams) (jobs []*rivertype.JobRow, rest *riverdriver.JobSetStateIfRunningManyParams, err error) {
	if params.Schema != "" || len(params.ID) == 0 {
		return nil, params, nil
	}
	done := make([][2]any, len(params.ID))
	finalized := make(map[int64]*time.Time, len(params.ID))
	for i, id := range params.ID {
		if params.State[i] != rivertype.JobStateCompleted || params.FinalizedAt[i] == nil ||
			params.Attempt[i] != nil || params.ErrData[i] != nil || params.ScheduledAt[i] != nil ||
			params.MetadataDoMerge[i] || len(params.MetadataUpdates[i]) > 0 {
			return nil, params, nil
		}
		done[i] = [2]any{id, params.FinalizedAt[i].UTC().Round(time.Millisecond).Format(sqliteTime)}
		finalized[id] = params.FinalizedAt[i]
	}
	arg, err := json.Marshal(done)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.QueryContext(ctx, completeManySQL, string(arg))
	if err != nil {
		return nil, nil, fmt.Errorf("completing jobs: %w", err)
	}
	defer rows.Close()
	jobs = make([]*rivertype.JobRow, 0, len(params.ID))
	completed := make(map[int64]bool, len(params.ID))
	for rows.Next() {
		job := &rivertype.JobRow{State: rivertype.JobStateCompleted}
		if err := rows.Scan(&job.ID, &job.Kind, &job.Queue, &job.Attempt, &job.MaxAttempts, &job.Priority); err != nil {
			return nil, nil, fmt.Errorf("completing jobs: %w", err)
		}
		job.FinalizedAt = finalized[job.ID]
		jobs = append(jobs, job)
		completed[job.ID] = true
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("completing jobs: %w", err)
	}
	for i, id := range params.ID {
		if completed[id] {
			continue
		}
		if rest == nil {
			rest = &riverdriver.JobSetStateIfRunningManyParams{Now: params.Now}
		}
		rest.ID = append(rest.ID, id)
		rest.Attempt = append(rest.Attempt, params.Attempt[i])
		rest.ErrData = append(rest.ErrData, params.ErrData[i])
		rest.FinalizedAt = append(rest.FinalizedAt, params.FinalizedAt[i])
		rest.MetadataDoMerge = append(rest.MetadataDoMerge, params.MetadataDoMerge[i])
		rest.MetadataUpdates = append(rest.MetadataUpdates, params.MetadataUpdates[i])
		rest.ScheduledAt = append(rest.ScheduledAt, params.ScheduledAt[i])
		rest.State = append(rest.State, params.State[i])
	}
	return jobs, rest, nil
}
