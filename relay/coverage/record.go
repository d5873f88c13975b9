package coverage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// interval is a reported interval checked and put on the relay's clock.
type interval struct {
	wire.WatchInterval
	zone               string
	start, end         int64 // relay clock, ms
	sentStart, sentEnd int64
}

// Record stores a console's batch of the officer's intervals: all of it or,
// on any mistake, none (a fault naming the interval at fault). An interval
// the relay has (same id, same content) is counted a duplicate; the same id
// with other content, or an interval overlapping one of the officer's of
// the same camera, is a conflict.
func (s *Store) Record(ctx context.Context, officer string, b wire.WatchBatch) (wire.WatchBatchResult, error) {
	now := s.Now()
	if !idPattern.MatchString(b.Console) {
		return wire.WatchBatchResult{}, invalid("console", "want the console's id (letters, digits, '-', '_', '.', ':')")
	}
	if b.Now.IsZero() {
		return wire.WatchBatchResult{}, invalid("now", "missing: the console's clock when it sent the batch")
	}
	if len(b.Intervals) == 0 || len(b.Intervals) > MaxBatch {
		return wire.WatchBatchResult{}, invalid("intervals", "want 1 to %d intervals, not %d", MaxBatch, len(b.Intervals))
	}
	zones, _, _, err := s.cameras(ctx)
	if err != nil {
		return wire.WatchBatchResult{}, err
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return wire.WatchBatchResult{}, fmt.Errorf("recording watch intervals: %w", err)
	}
	defer tx.Rollback()

	skew, err := s.skew(ctx, tx, b.Console, now.Sub(b.Now))
	if err != nil {
		return wire.WatchBatchResult{}, err
	}
	ivs := make([]interval, len(b.Intervals))
	for i, in := range b.Intervals {
		field := func(name string) string { return fmt.Sprintf("intervals[%d].%s", i, name) }
		if !idPattern.MatchString(in.ID) {
			return wire.WatchBatchResult{}, invalid(field("id"), "%q: want letters, digits, '-', '_', '.', ':' (up to 128)", in.ID)
		}
		if in.Mode != wire.ModeTile && in.Mode != wire.ModeFocus {
			return wire.WatchBatchResult{}, invalid(field("mode"), "%q: want tile or focus", in.Mode)
		}
		if in.Start.IsZero() || in.End.IsZero() {
			return wire.WatchBatchResult{}, invalid(field("start"), "start and end are required")
		}
		if !in.End.After(in.Start) {
			return wire.WatchBatchResult{}, invalid(field("end"), "%s is not after start %s", in.End.Format(time.RFC3339Nano), in.Start.Format(time.RFC3339Nano))
		}
		if in.End.Sub(in.Start) > MaxInterval {
			return wire.WatchBatchResult{}, invalid(field("end"), "an interval is at most %v; cut longer watches", MaxInterval)
		}
		zone, ok := zones[cameraKey{in.Site, in.Camera}]
		if !ok {
			return wire.WatchBatchResult{}, &fault.Error{Kind: fault.Unprocessable, Code: "unknown_camera", Field: field("camera"),
				Message: fmt.Sprintf("camera %s/%s is not one the relay knows", in.Site, in.Camera)}
		}
		iv := interval{WatchInterval: in, zone: zone, sentStart: ms(in.Start), sentEnd: ms(in.End)}
		iv.start, iv.end = iv.sentStart+skew.Milliseconds(), iv.sentEnd+skew.Milliseconds()
		if iv.end > ms(now.Add(futureSlack)) {
			return wire.WatchBatchResult{}, invalid(field("end"), "ends after the relay's now, even corrected by the console's clock skew (%v)", skew)
		}
		ivs[i] = iv
	}
	if err := overlapsInBatch(ivs); err != nil {
		return wire.WatchBatchResult{}, err
	}

	res := wire.WatchBatchResult{SkewMillis: skew.Milliseconds()}
	received := sqlitedb.FormatTime(now)
	for i, iv := range ivs {
		dup, err := s.known(ctx, tx, officer, iv)
		if err != nil {
			return wire.WatchBatchResult{}, err
		}
		if dup {
			res.Duplicates++
			continue
		}
		var other string
		err = tx.QueryRowContext(ctx, `SELECT id FROM watch_intervals
			WHERE officer = ? AND site_id = ? AND camera_id = ? AND start_ms < ? AND start_ms > ? AND end_ms > ? LIMIT 1`,
			officer, iv.Site, iv.Camera, iv.end, iv.start-MaxInterval.Milliseconds(), iv.start).Scan(&other)
		if err == nil {
			return wire.WatchBatchResult{}, &fault.Error{Kind: fault.Conflict, Code: "overlap", Field: fmt.Sprintf("intervals[%d]", i),
				Message: fmt.Sprintf("interval %s overlaps %s, %s's earlier one of camera %s/%s", iv.ID, other, officer, iv.Site, iv.Camera)}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return wire.WatchBatchResult{}, fmt.Errorf("checking interval %s for overlaps: %w", iv.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO watch_intervals (id, console, officer, site_id, camera_id, zone, mode,
			start_ms, end_ms, sent_start_ms, sent_end_ms, skew_ms, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			iv.ID, b.Console, officer, iv.Site, iv.Camera, iv.zone, iv.Mode, iv.start, iv.end, iv.sentStart, iv.sentEnd,
			skew.Milliseconds(), received); err != nil {
			return wire.WatchBatchResult{}, fmt.Errorf("recording interval %s: %w", iv.ID, err)
		}
		if err := addSpan(ctx, tx, iv.Site, iv.Camera, iv.zone, iv.start, iv.end); err != nil {
			return wire.WatchBatchResult{}, err
		}
		res.Accepted++
	}
	if err := tx.Commit(); err != nil {
		return wire.WatchBatchResult{}, fmt.Errorf("recording watch intervals: %w", err)
	}
	return res, nil
}

// skew returns the correction for a console whose clock was measured off
// by measured: its last one while the measure stays near it (the rest is
// transit), the new measure otherwise; none for a console within a second.
func (s *Store) skew(ctx context.Context, tx *sql.Tx, console string, measured time.Duration) (time.Duration, error) {
	if measured > MaxSkew || measured < -MaxSkew {
		return 0, &fault.Error{Kind: fault.Unprocessable, Code: "clock_skew", Field: "now",
			Message: fmt.Sprintf("the console's clock is %v off the relay's, more than %v: set its clock", measured.Round(time.Second), MaxSkew)}
	}
	var last int64
	err := tx.QueryRowContext(ctx, `SELECT skew_ms FROM watch_consoles WHERE console = ?`, console).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("reading console %s's clock skew: %w", console, err)
	}
	prev := time.Duration(last) * time.Millisecond
	skew := measured.Round(time.Millisecond)
	switch d := measured - prev; {
	case d <= skewTolerance && d >= -skewTolerance:
		skew = prev
	case errors.Is(err, sql.ErrNoRows) && measured <= skewTolerance && measured >= -skewTolerance:
		skew = 0
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO watch_consoles (console, skew_ms, measured_at) VALUES (?, ?, ?)
		ON CONFLICT (console) DO UPDATE SET skew_ms = excluded.skew_ms, measured_at = excluded.measured_at`,
		console, skew.Milliseconds(), sqlitedb.FormatTime(s.Now())); err != nil {
		return 0, fmt.Errorf("recording console %s's clock skew: %w", console, err)
	}
	return skew, nil
}

// known reports whether the relay has the interval already; the same id
// with other content is a conflict.
func (s *Store) known(ctx context.Context, tx *sql.Tx, officer string, iv interval) (bool, error) {
	var who, site, cam, mode string
	var start, end int64
	err := tx.QueryRowContext(ctx, `SELECT officer, site_id, camera_id, mode, sent_start_ms, sent_end_ms FROM watch_intervals WHERE id = ?`,
		iv.ID).Scan(&who, &site, &cam, &mode, &start, &end)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up interval %s: %w", iv.ID, err)
	}
	if who != officer || site != iv.Site || cam != iv.Camera || mode != iv.Mode || start != iv.sentStart || end != iv.sentEnd {
		return false, &fault.Error{Kind: fault.Conflict, Code: "conflict",
			Message: fmt.Sprintf("interval %s was reported before with other content", iv.ID)}
	}
	return true, nil
}

// overlapsInBatch refuses a batch whose own intervals of a camera overlap,
// or that repeats an id.
func overlapsInBatch(ivs []interval) error {
	idx := make([]int, len(ivs))
	seen := map[string]int{}
	for i := range idx {
		idx[i] = i
		if j, dup := seen[ivs[i].ID]; dup {
			return invalid(fmt.Sprintf("intervals[%d].id", i), "%q is intervals[%d]'s too", ivs[i].ID, j)
		}
		seen[ivs[i].ID] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		x, y := ivs[idx[a]], ivs[idx[b]]
		if x.Site != y.Site || x.Camera != y.Camera {
			return x.Site+"/"+x.Camera < y.Site+"/"+y.Camera
		}
		return x.start < y.start
	})
	for k := 1; k < len(idx); k++ {
		a, b := ivs[idx[k-1]], ivs[idx[k]]
		if a.Site == b.Site && a.Camera == b.Camera && b.start < a.end {
			return &fault.Error{Kind: fault.Conflict, Code: "overlap", Field: fmt.Sprintf("intervals[%d]", idx[k]),
				Message: fmt.Sprintf("intervals %s and %s of camera %s/%s overlap", a.ID, b.ID, a.Site, a.Camera)}
		}
	}
	return nil
}

// addSpan merges [start, end) into the camera's union of watched time,
// cut at UTC midnights, and adds what it newly covers to the day's sum.
func addSpan(ctx context.Context, tx *sql.Tx, site, camera, zone string, start, end int64) error {
	for start < end {
		day := start / dayMillis
		pieceEnd := min(end, (day+1)*dayMillis)
		lo, hi := start, pieceEnd
		rows, err := tx.QueryContext(ctx, `SELECT start_ms, end_ms FROM watch_spans
			WHERE site_id = ? AND camera_id = ? AND start_ms >= ? AND start_ms <= ? AND end_ms >= ?`,
			site, camera, day*dayMillis, pieceEnd, start)
		if err != nil {
			return fmt.Errorf("merging a watch of %s/%s: %w", site, camera, err)
		}
		var starts []int64
		var had int64 // the merged spans' time, before
		for rows.Next() {
			var s, e int64
			if err := rows.Scan(&s, &e); err != nil {
				rows.Close()
				return fmt.Errorf("merging a watch of %s/%s: %w", site, camera, err)
			}
			lo, hi = min(lo, s), max(hi, e)
			starts = append(starts, s)
			had += e - s
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("merging a watch of %s/%s: %w", site, camera, err)
		}
		for _, s := range starts {
			if _, err := tx.ExecContext(ctx, `DELETE FROM watch_spans WHERE site_id = ? AND camera_id = ? AND start_ms = ?`, site, camera, s); err != nil {
				return fmt.Errorf("merging a watch of %s/%s: %w", site, camera, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO watch_spans (site_id, camera_id, zone, day, start_ms, end_ms) VALUES (?, ?, ?, ?, ?, ?)`,
			site, camera, zone, day, lo, hi); err != nil {
			return fmt.Errorf("merging a watch of %s/%s: %w", site, camera, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO watch_days (day, site_id, camera_id, watched_ms, last_end_ms) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (day, site_id, camera_id) DO UPDATE SET watched_ms = watched_ms + excluded.watched_ms,
			last_end_ms = max(last_end_ms, excluded.last_end_ms)`, day, site, camera, hi-lo-had, hi); err != nil {
			return fmt.Errorf("adding a watch of %s/%s to its day: %w", site, camera, err)
		}
		start = pieceEnd
	}
	return nil
}
