package coverage

import (
	"context"
	"fmt"
	"time"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// WatchQuery narrows the audit trail to a period and optionally an
// officer, site or camera; Limit caps the answer (default and most 10000).
type WatchQuery struct {
	From, To              time.Time
	Officer, Site, Camera string
	Limit                 int
}

// MaxWatches is the most intervals one audit answer holds.
const MaxWatches = 10000

// Watches returns who had which camera on screen in the period, by start.
func (s *Store) Watches(ctx context.Context, q WatchQuery) ([]wire.Watch, error) {
	if q.Limit <= 0 || q.Limit > MaxWatches {
		q.Limit = MaxWatches
	}
	f, t := ms(q.From), ms(q.To)
	// An interval is at most MaxInterval long: those overlapping the period
	// start in an index range.
	sqlq := `SELECT id, officer, console, site_id, camera_id, zone, mode, start_ms, end_ms FROM watch_intervals
		WHERE start_ms < ? AND start_ms > ? AND end_ms > ?`
	args := []any{t, f - MaxInterval.Milliseconds(), f}
	for _, c := range []struct{ col, v string }{{"officer", q.Officer}, {"site_id", q.Site}, {"camera_id", q.Camera}} {
		if c.v != "" {
			sqlq, args = sqlq+` AND `+c.col+` = ?`, append(args, c.v)
		}
	}
	rows, err := s.DB.QueryContext(ctx, sqlq+` ORDER BY start_ms, id LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("reading the watch audit: %w", err)
	}
	defer rows.Close()
	out := []wire.Watch{}
	for rows.Next() {
		var w wire.Watch
		var start, end int64
		if err := rows.Scan(&w.ID, &w.Officer, &w.Console, &w.Site, &w.Camera, &w.Zone, &w.Mode, &start, &end); err != nil {
			return nil, fmt.Errorf("reading the watch audit: %w", err)
		}
		w.Start, w.End = fromMS(start), fromMS(end)
		out = append(out, w)
	}
	return out, rows.Err()
}
