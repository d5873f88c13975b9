package findings

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/relay/auth"
)

// Several returns the findings of ids that exist, by id, with their
// evidence and without their events: a page of the supervisors' review
// list (relay/review) in a few queries instead of a Get per finding. It
// checks no role: its caller does.
func (s *Store) Several(ctx context.Context, ids []string) (map[string]Finding, error) {
	out := make(map[string]Finding, len(ids))
	for len(ids) > 0 {
		batch := ids[:min(len(ids), evidenceBatch)]
		ids = ids[len(batch):]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		rows, err := s.db.QueryContext(ctx, `SELECT `+findingColumns+` FROM findings WHERE id IN (?`+strings.Repeat(", ?", len(batch)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("reading findings: %w", err)
		}
		var got []*Finding
		for rows.Next() {
			f, err := s.scan(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading findings: %w", err)
			}
			got = append(got, &f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading findings: %w", err)
		}
		if err := s.attachEvidence(ctx, got); err != nil {
			return nil, err
		}
		for _, f := range got {
			out[f.ID] = *f
		}
	}
	return out, nil
}

// Execer is a transaction (or the database) a change is written in.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// RecordEvent records in tx a change another package makes of a finding
// (the supervisors' review: reviewed, commented, outcome) in its history,
// on the changes feed's cursor. Once tx commits, Announce wakes who
// follows the changes.
func RecordEvent(ctx context.Context, tx Execer, id string, at time.Time, by auth.Principal, action string, detail map[string]any) (int64, error) {
	return addEvent(ctx, tx, id, formatTime(at), by, action, detail)
}

// Announce wakes who waits for a change (Changed): after a RecordEvent's
// transaction has committed.
func (s *Store) Announce() { s.announce() }
