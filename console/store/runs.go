package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

// OutboxRun is a checklist run's event: the entry's FindingID is the run's
// id and its Revision the event's number.
const OutboxRun = "run"

// Errors of runs callers tell apart.
var (
	ErrRunNotFound = errors.New("run not found")
	// ErrRunEnded refuses an event after a run's end.
	ErrRunEnded = errors.New("the run has ended")
	// ErrBeforeStart refuses an event dated before its run started.
	ErrBeforeStart = errors.New("before the run started")
)

// The kinds of a run's events.
const (
	RunStarted      = "started"
	RunMarked       = "marked"
	RunTimerStarted = "timer_started"
	RunTimerStopped = "timer_stopped"
	RunFinding      = "finding"
	RunEnded        = "ended"
)

// RunFlag is a deviation the template's rules raised on a step.
type RunFlag struct {
	Step      string `json:"step"`
	Deviation string `json:"deviation"`
}

// RunEvent is one event of a checklist run.
type RunEvent struct {
	Seq           int
	Kind          string
	At            time.Time
	Step          string
	Mark          string
	Deviation     string
	DeviationText string
	Duration      time.Duration
	FindingID     string
	Flags         []RunFlag
}

// Run is a checklist run as kept, with its events in order.
type Run struct {
	ID              string
	TemplateID      string
	TemplateVersion int
	// Template is the checklist.Template the run started with, as JSON:
	// the run goes on with it whatever the templates folder says since.
	Template  json.RawMessage
	Camera    string // site/camera
	Officer   string
	Relay     string
	StartedAt time.Time
	EndedAt   time.Time // zero while the run goes on
	Seq       int
	Events    []RunEvent
}

// NewRun is a run as it starts.
type NewRun struct {
	ID              string
	TemplateID      string
	TemplateVersion int
	Template        json.RawMessage
	Camera          string
	Officer         string
	// Relay is the relay the officer is signed in to, the only one the
	// run is forwarded to ("" for the next one forwarded to).
	Relay string
	At    time.Time
}

// StartRun commits a run's start (its event 1) and queues it for the relay.
func (s *Store) StartRun(ctx context.Context, r NewRun) (Run, error) {
	var missing []string
	for name, v := range map[string]string{"id": r.ID, "template_id": r.TemplateID, "camera": r.Camera, "officer": r.Officer} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 || len(r.Template) == 0 || r.At.IsZero() {
		return Run{}, fmt.Errorf("%w: a run's start needs %s, a template and a time", ErrInvalid, strings.Join(missing, ", "))
	}
	now := s.now()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO runs (id, template_id, template_version, template, camera, officer, relay, started_at, seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`, r.ID, r.TemplateID, r.TemplateVersion, string(r.Template), r.Camera, r.Officer, r.Relay,
			sqlitedb.FormatTime(r.At)); err != nil {
			return fmt.Errorf("recording run %s: %w", r.ID, err)
		}
		return addRunEvent(ctx, tx, r.ID, RunEvent{Seq: 1, Kind: RunStarted, At: r.At}, now)
	})
	if err != nil {
		return Run{}, err
	}
	return s.Run(ctx, r.ID)
}

// AddRunEvent commits the next event of a run with its outbox entry and
// returns its number; when it returns without error the event is on disk.
// An event after the run's end is refused (ErrRunEnded), as is one dated
// before its start (ErrBeforeStart).
func (s *Store) AddRunEvent(ctx context.Context, runID string, ev RunEvent) (int, error) {
	switch ev.Kind {
	case RunMarked, RunTimerStarted, RunTimerStopped, RunFinding, RunEnded:
	default:
		return 0, fmt.Errorf("%w: run event kind %q", ErrInvalid, ev.Kind)
	}
	now := s.now()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var seq int
		var started, ended string
		err := tx.QueryRowContext(ctx, `SELECT seq, started_at, ended_at FROM runs WHERE id = ?`, runID).Scan(&seq, &started, &ended)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrRunNotFound, runID)
		}
		if err != nil {
			return fmt.Errorf("reading run %s: %w", runID, err)
		}
		if ended != "" {
			return fmt.Errorf("%w: run %s ended at %s", ErrRunEnded, runID, ended)
		}
		if st, err := sqlitedb.ParseTime(started); err == nil && ev.At.Before(st) {
			return fmt.Errorf("%w: run %s started at %s", ErrBeforeStart, runID, started)
		}
		ev.Seq = seq + 1
		endedAt := ""
		if ev.Kind == RunEnded {
			endedAt = sqlitedb.FormatTime(ev.At)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET seq = ?, ended_at = ? WHERE id = ?`, ev.Seq, endedAt, runID); err != nil {
			return fmt.Errorf("recording event %d of run %s: %w", ev.Seq, runID, err)
		}
		return addRunEvent(ctx, tx, runID, ev, now)
	})
	return ev.Seq, err
}

func addRunEvent(ctx context.Context, tx *sql.Tx, runID string, ev RunEvent, now time.Time) error {
	flags := ev.Flags
	if flags == nil {
		flags = []RunFlag{}
	}
	b, err := json.Marshal(flags)
	if err != nil {
		return fmt.Errorf("encoding the flags of event %d of run %s: %w", ev.Seq, runID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO run_events (run_id, seq, kind, at, step, mark, deviation, deviation_text, duration_ms, finding_id, flags)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, runID, ev.Seq, ev.Kind, sqlitedb.FormatTime(ev.At), ev.Step, ev.Mark, ev.Deviation,
		ev.DeviationText, ev.Duration.Milliseconds(), ev.FindingID, string(b)); err != nil {
		return fmt.Errorf("recording event %d of run %s: %w", ev.Seq, runID, err)
	}
	return enqueue(ctx, tx, runID, OutboxRun, ev.Seq, now)
}

// Run returns a run with its events.
func (s *Store) Run(ctx context.Context, id string) (Run, error) {
	rs, err := s.runs(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Run{}, err
	}
	if len(rs) == 0 {
		return Run{}, fmt.Errorf("%w: %s", ErrRunNotFound, id)
	}
	return rs[0], nil
}

// Runs returns the runs going on (open) or all, oldest first, at most limit
// (1000 when 0).
func (s *Store) Runs(ctx context.Context, open bool, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = 1000
	}
	where := `WHERE 1 = 1`
	if open {
		where = `WHERE ended_at = ''`
	}
	// The newest limit, listed oldest first.
	return s.runs(ctx, where+` AND id IN (SELECT id FROM runs `+where+` ORDER BY started_at DESC, id DESC LIMIT ?)`, limit)
}

func (s *Store) runs(ctx context.Context, where string, args ...any) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, template_id, template_version, template, camera, officer, relay, started_at, ended_at, seq
		FROM runs `+where+` ORDER BY started_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading runs: %w", err)
	}
	var out []Run
	for rows.Next() {
		var r Run
		var tpl, started, ended string
		if err := rows.Scan(&r.ID, &r.TemplateID, &r.TemplateVersion, &tpl, &r.Camera, &r.Officer, &r.Relay, &started, &ended, &r.Seq); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading runs: %w", err)
		}
		r.Template = json.RawMessage(tpl)
		r.StartedAt = parseOr(started, time.Time{})
		if ended != "" {
			r.EndedAt = parseOr(ended, time.Time{})
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading runs: %w", err)
	}
	for i := range out {
		if out[i].Events, err = s.runEvents(ctx, out[i].ID, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// runEvents reads a run's events, all (seq 0) or the one numbered seq.
func (s *Store) runEvents(ctx context.Context, id string, seq int) ([]RunEvent, error) {
	q := `SELECT seq, kind, at, step, mark, deviation, deviation_text, duration_ms, finding_id, flags FROM run_events WHERE run_id = ?`
	args := []any{id}
	if seq > 0 {
		q += ` AND seq = ?`
		args = append(args, seq)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the events of run %s: %w", id, err)
	}
	defer rows.Close()
	var out []RunEvent
	for rows.Next() {
		var ev RunEvent
		var at, flags string
		var ms int64
		if err := rows.Scan(&ev.Seq, &ev.Kind, &at, &ev.Step, &ev.Mark, &ev.Deviation, &ev.DeviationText, &ms, &ev.FindingID, &flags); err != nil {
			return nil, fmt.Errorf("reading the events of run %s: %w", id, err)
		}
		ev.At = parseOr(at, time.Time{})
		ev.Duration = time.Duration(ms) * time.Millisecond
		if err := json.Unmarshal([]byte(flags), &ev.Flags); err != nil {
			return nil, fmt.Errorf("reading the flags of event %d of run %s: %w", ev.Seq, id, err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// RunEventOf returns the run an outbox entry of kind OutboxRun is of
// (without its events) and the event it carries.
func (s *Store) RunEventOf(ctx context.Context, e OutboxEntry) (Run, RunEvent, error) {
	if e.Kind != OutboxRun {
		return Run{}, RunEvent{}, fmt.Errorf("%w: outbox entry %d is not a run's event", ErrInvalid, e.Seq)
	}
	var r Run
	var tpl, started, ended string
	err := s.db.QueryRowContext(ctx, `SELECT id, template_id, template_version, template, camera, officer, relay, started_at, ended_at, seq
		FROM runs WHERE id = ?`, e.FindingID).Scan(&r.ID, &r.TemplateID, &r.TemplateVersion, &tpl, &r.Camera, &r.Officer, &r.Relay, &started, &ended, &r.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, RunEvent{}, fmt.Errorf("%w: %s", ErrRunNotFound, e.FindingID)
	}
	if err != nil {
		return Run{}, RunEvent{}, fmt.Errorf("reading run %s: %w", e.FindingID, err)
	}
	r.Template = json.RawMessage(tpl)
	r.StartedAt = parseOr(started, time.Time{})
	evs, err := s.runEvents(ctx, r.ID, e.Revision)
	if err != nil {
		return Run{}, RunEvent{}, err
	}
	if len(evs) != 1 {
		return Run{}, RunEvent{}, fmt.Errorf("%w: event %d of run %s", ErrRunNotFound, e.Revision, r.ID)
	}
	return r, evs[0], nil
}
