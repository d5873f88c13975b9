package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

// OutboxWatch is a batch of watch intervals for the relay: the entry's
// FindingID is the batch's id.
const OutboxWatch = "watch"

// Watch modes, as the relay names them.
const (
	WatchTile  = "tile"
	WatchFocus = "focus"
)

const (
	// WatchCut is how old an open watch is when it is cut (closed and
	// opened again at once): the relay knows a watch only once posted, so
	// a camera on screen for an hour reaches it minute by minute. The view
	// says what is on screen at least every WatchHeartbeat, so no interval
	// is much longer than WatchCut + WatchHeartbeat ≤ a minute.
	WatchCut = 45 * time.Second
	// WatchHeartbeat is how often the view repeats what is on screen.
	WatchHeartbeat = 15 * time.Second
	// WatchStale is how long a view may be silent: beyond, what it last
	// said was on screen is taken to have left it when it last said so
	// (the window closed or the console crashed meanwhile).
	WatchStale = 45 * time.Second
	// WatchBatchMax is the most intervals a batch holds (the relay's limit).
	WatchBatchMax = 1000
)

// ErrWatchBatchNotFound is an outbox entry naming no batch.
var ErrWatchBatchNotFound = errors.New("watch batch not found")

// Watching is a camera on screen: "site/camera" and how (tile or focus).
type Watching struct {
	Camera string `json:"camera"`
	Mode   string `json:"mode"`
}

// WatchUpdate is what the view says is on the officer's screen at At.
// Officer and Relay are the sign-in's; with no Officer nothing is watched
// (signed out), and the open watches are closed.
type WatchUpdate struct {
	Officer string
	Relay   string
	At      time.Time
	Visible []Watching
}

// OpenWatch is a camera on screen since Start.
type OpenWatch struct {
	Camera string    `json:"camera"`
	Mode   string    `json:"mode"`
	Start  time.Time `json:"start"`
}

// WatchInterval is a closed interval of a camera on screen, by the
// console's clock.
type WatchInterval struct {
	ID      string    `json:"id"`
	Officer string    `json:"officer"`
	Site    string    `json:"site"`
	Camera  string    `json:"camera"` // the camera's id at its site
	Mode    string    `json:"mode"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// WatchBatch is a batch of intervals as forwarded.
type WatchBatch struct {
	ID        string
	Relay     string
	Officer   string
	Intervals []WatchInterval
}

type openRow struct {
	OpenWatch
	officer, relay string
	seen           time.Time
}

// SetWatching records what is on screen at u.At: a camera gone from it (or
// shown another way) closes its watch at At, a new one opens one, and a
// watch open for WatchCut is cut at At. Saying the same twice changes
// nothing but the time it was last said. Closed intervals are put in a
// batch for the relay once the oldest waited WatchCut or a watch was cut.
// It returns the watches open after it.
func (s *Store) SetWatching(ctx context.Context, u WatchUpdate) ([]OpenWatch, error) {
	if u.At.IsZero() {
		return nil, fmt.Errorf("%w: what is on screen needs a time", ErrInvalid)
	}
	want := make(map[string]string, len(u.Visible))
	for _, v := range u.Visible {
		site, cam, ok := strings.Cut(v.Camera, "/")
		if !ok || site == "" || cam == "" || strings.Contains(cam, "/") {
			return nil, fmt.Errorf("%w: camera %q: want site/camera", ErrInvalid, v.Camera)
		}
		if v.Mode != WatchTile && v.Mode != WatchFocus {
			return nil, fmt.Errorf("%w: camera %s: mode %q: want tile or focus", ErrInvalid, v.Camera, v.Mode)
		}
		if want[v.Camera] != WatchFocus { // focused and in a tile: focused
			want[v.Camera] = v.Mode
		}
	}
	if u.Officer == "" || u.Relay == "" {
		clear(want)
	}
	at := u.At
	var out []OpenWatch
	err := s.tx(ctx, func(tx *sql.Tx) error {
		open, err := openWatches(ctx, tx)
		if err != nil {
			return err
		}
		cut := false
		for _, o := range open {
			if at.Sub(o.seen) > WatchStale {
				// The view was silent: nothing is known after it last spoke.
				if err := closeWatch(ctx, tx, o, o.seen, false); err != nil {
					return err
				}
				continue
			}
			mode, still := want[o.Camera]
			if o.officer != u.Officer || o.relay != u.Relay {
				still = false
			}
			switch {
			case !still || mode != o.Mode:
				if err := closeWatch(ctx, tx, o, at, false); err != nil {
					return err
				}
			case at.Sub(o.Start) >= WatchCut:
				cut = true
				if err := closeWatch(ctx, tx, o, at, true); err != nil {
					return err
				}
				delete(want, o.Camera)
				out = append(out, OpenWatch{Camera: o.Camera, Mode: o.Mode, Start: at})
			default:
				if _, err := tx.ExecContext(ctx, `UPDATE watch_open SET seen_at = ? WHERE camera = ?`, sqlitedb.FormatTime(at), o.Camera); err != nil {
					return fmt.Errorf("recording that %s is still on screen: %w", o.Camera, err)
				}
				delete(want, o.Camera)
				out = append(out, o.OpenWatch)
			}
		}
		for cam, mode := range want {
			if _, err := tx.ExecContext(ctx, `INSERT INTO watch_open (camera, mode, officer, relay, start, seen_at) VALUES (?, ?, ?, ?, ?, ?)`,
				cam, mode, u.Officer, u.Relay, sqlitedb.FormatTime(at), sqlitedb.FormatTime(at)); err != nil {
				return fmt.Errorf("recording that %s is on screen: %w", cam, err)
			}
			out = append(out, OpenWatch{Camera: cam, Mode: mode, Start: at})
		}
		return batchWatches(ctx, tx, at, cut, s.now())
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Camera < out[j].Camera })
	return out, nil
}

// EndWatching closes every open watch at at and batches every interval
// for the relay: the officer signs out, or the console stops.
func (s *Store) EndWatching(ctx context.Context, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		open, err := openWatches(ctx, tx)
		if err != nil {
			return err
		}
		for _, o := range open {
			end := at
			if at.Sub(o.seen) > WatchStale {
				end = o.seen
			}
			if err := closeWatch(ctx, tx, o, end, false); err != nil {
				return err
			}
		}
		return batchWatches(ctx, tx, at, true, s.now())
	})
}

// querier is a transaction or the database.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func openWatches(ctx context.Context, tx querier) ([]openRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT camera, mode, officer, relay, start, seen_at FROM watch_open ORDER BY camera`)
	if err != nil {
		return nil, fmt.Errorf("reading the watches open: %w", err)
	}
	defer rows.Close()
	var out []openRow
	for rows.Next() {
		var o openRow
		var start, seen string
		if err := rows.Scan(&o.Camera, &o.Mode, &o.officer, &o.relay, &start, &seen); err != nil {
			return nil, fmt.Errorf("reading the watches open: %w", err)
		}
		o.Start, _ = sqlitedb.ParseTime(start)
		o.seen, _ = sqlitedb.ParseTime(seen)
		out = append(out, o)
	}
	return out, rows.Err()
}

// closeWatch records o as an interval ending at end (none if it would be
// empty) and, unless reopen, ends it; reopened, it goes on from end.
func closeWatch(ctx context.Context, tx *sql.Tx, o openRow, end time.Time, reopen bool) error {
	if end.After(o.Start) {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("making an interval id: %w", err)
		}
		site, cam, _ := strings.Cut(o.Camera, "/")
		if _, err := tx.ExecContext(ctx, `INSERT INTO watch_intervals (id, officer, relay, site, camera, mode, start, end) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id.String(), o.officer, o.relay, site, cam, o.Mode, sqlitedb.FormatTime(o.Start), sqlitedb.FormatTime(end)); err != nil {
			return fmt.Errorf("recording the watch of %s: %w", o.Camera, err)
		}
	}
	if reopen {
		_, err := tx.ExecContext(ctx, `UPDATE watch_open SET start = ?, seen_at = ? WHERE camera = ?`, sqlitedb.FormatTime(end), sqlitedb.FormatTime(end), o.Camera)
		if err != nil {
			return fmt.Errorf("cutting the watch of %s: %w", o.Camera, err)
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM watch_open WHERE camera = ?`, o.Camera); err != nil {
		return fmt.Errorf("closing the watch of %s: %w", o.Camera, err)
	}
	return nil
}

// batchWatches puts the intervals not yet in a batch into batches of at
// most WatchBatchMax, one per relay and officer, each queued in the outbox,
// when force or the oldest of them ended WatchCut before at.
func batchWatches(ctx context.Context, tx *sql.Tx, at time.Time, force bool, now time.Time) error {
	if !force {
		var oldest sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT min(end) FROM watch_intervals WHERE batch_id = ''`).Scan(&oldest); err != nil {
			return fmt.Errorf("reading the intervals not yet batched: %w", err)
		}
		if !oldest.Valid {
			return nil
		}
		if end, err := sqlitedb.ParseTime(oldest.String); err == nil && at.Sub(end) < WatchCut {
			return nil
		}
	}
	for {
		var relay, officer string
		err := tx.QueryRowContext(ctx, `SELECT relay, officer FROM watch_intervals WHERE batch_id = '' LIMIT 1`).Scan(&relay, &officer)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the intervals not yet batched: %w", err)
		}
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("making a batch id: %w", err)
		}
		bid := id.String()
		if _, err := tx.ExecContext(ctx, `INSERT INTO watch_batches (id, relay, officer, made_at) VALUES (?, ?, ?, ?)`,
			bid, relay, officer, sqlitedb.FormatTime(now)); err != nil {
			return fmt.Errorf("recording a batch of watches: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE watch_intervals SET batch_id = ? WHERE id IN (
			SELECT id FROM watch_intervals WHERE batch_id = '' AND relay = ? AND officer = ? ORDER BY start, id LIMIT ?)`,
			bid, relay, officer, WatchBatchMax); err != nil {
			return fmt.Errorf("batching watches: %w", err)
		}
		if err := enqueue(ctx, tx, bid, OutboxWatch, 1, now); err != nil {
			return err
		}
	}
}

// WatchBatchOf returns the batch an outbox entry of kind watch sends.
func (s *Store) WatchBatchOf(ctx context.Context, e OutboxEntry) (WatchBatch, error) {
	b := WatchBatch{ID: e.FindingID}
	err := s.db.QueryRowContext(ctx, `SELECT relay, officer FROM watch_batches WHERE id = ?`, e.FindingID).Scan(&b.Relay, &b.Officer)
	if errors.Is(err, sql.ErrNoRows) {
		return WatchBatch{}, fmt.Errorf("%w: %s", ErrWatchBatchNotFound, e.FindingID)
	}
	if err != nil {
		return WatchBatch{}, fmt.Errorf("reading watch batch %s: %w", e.FindingID, err)
	}
	b.Intervals, err = s.watchIntervals(ctx, `WHERE batch_id = ?`, e.FindingID)
	return b, err
}

// WatchIntervals returns the closed intervals of officer overlapping
// [from, to), by start.
func (s *Store) WatchIntervals(ctx context.Context, officer string, from, to time.Time) ([]WatchInterval, error) {
	return s.watchIntervals(ctx, `WHERE officer = ? AND end > ? AND start < ?`, officer, sqlitedb.FormatTime(from), sqlitedb.FormatTime(to))
}

// OpenWatches returns the watches open now.
func (s *Store) OpenWatches(ctx context.Context) ([]OpenWatch, error) {
	rows, err := openWatches(ctx, s.db)
	out := make([]OpenWatch, 0, len(rows))
	for _, o := range rows {
		out = append(out, o.OpenWatch)
	}
	return out, err
}

func (s *Store) watchIntervals(ctx context.Context, where string, args ...any) ([]WatchInterval, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, officer, site, camera, mode, start, end FROM watch_intervals `+where+` ORDER BY start, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading watch intervals: %w", err)
	}
	defer rows.Close()
	var out []WatchInterval
	for rows.Next() {
		var w WatchInterval
		var start, end string
		if err := rows.Scan(&w.ID, &w.Officer, &w.Site, &w.Camera, &w.Mode, &start, &end); err != nil {
			return nil, fmt.Errorf("reading watch intervals: %w", err)
		}
		w.Start, _ = sqlitedb.ParseTime(start)
		w.End, _ = sqlitedb.ParseTime(end)
		out = append(out, w)
	}
	return out, rows.Err()
}

// settingConsoleID is the setting naming this console to the relay.
const settingConsoleID = "console_id"

// ConsoleID returns the id this console names itself by to the relay in
// watch batches, made once: the relay keeps each console's clock skew
// under it.
func (s *Store) ConsoleID(ctx context.Context) (string, error) {
	if id, ok, err := s.Setting(ctx, settingConsoleID); err != nil || ok {
		return id, err
	}
	u, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("making the console's id: %w", err)
	}
	id := "console-" + u.String()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		settingConsoleID, id, sqlitedb.FormatTime(s.now())); err != nil {
		return "", fmt.Errorf("recording the console's id: %w", err)
	}
	id, _, err = s.Setting(ctx, settingConsoleID)
	return id, err
}
