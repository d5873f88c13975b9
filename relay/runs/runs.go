// Package runs keeps the checklist runs consoles file with the relay, in
// plain Go over the relay database (tables runs, run_events, run_steps and
// run_findings, migration 0009): each run's events as the console numbered
// them, and what they add up to, which the checks statistics count.
//
// A console forwards a run's events from its outbox at least once and in
// order; the run id and the event's number make a repeat harmless (the same
// event is answered as done and changes nothing), and the order is
// enforced: an event past the next one is refused, so nothing is counted
// from a run with a hole in it.
package runs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Store is the runs in the relay database.
type Store struct {
	db *sql.DB
}

// New returns the runs over db, the relay database (store.OpenDatabase).
func New(db *sql.DB) *Store { return &Store{db: db} }

// maxIDLen bounds the ids and words a console sends.
const maxIDLen = 200

// mayFile reports whether p's role files runs: the city's officers.
func mayFile(p auth.Principal) bool {
	return p.Role == auth.RoleDuty || p.Role == auth.RoleSupervisor || p.Role == auth.RoleAdmin
}

// state is a run's row, as an event is checked against it.
type state struct {
	found    bool
	template wire.RunTemplate
	started  time.Time
	ended    bool
	seq      int
}

// File records one event of run id filed by p. created is false for an
// event the relay already had, the same (a replay), which changes nothing.
// The caller has checked that a started event's camera is the relay's.
func (s *Store) File(ctx context.Context, p auth.Principal, id string, ev wire.RunEvent) (run wire.Run, created bool, err error) {
	if !mayFile(p) {
		return wire.Run{}, false, fault.New(fault.Forbidden, "forbidden", "a %s does not file checklist runs", p.Role)
	}
	if err := checkShape(id, &ev); err != nil {
		return wire.Run{}, false, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return wire.Run{}, false, fmt.Errorf("encoding event %d of run %s: %w", ev.Seq, id, err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var had string
		err := tx.QueryRowContext(ctx, `SELECT body FROM run_events WHERE run_id = ? AND seq = ?`, id, ev.Seq).Scan(&had)
		switch {
		case err == nil:
			if had != string(body) {
				return fault.New(fault.Conflict, "conflict", "run %s has another event %d", id, ev.Seq)
			}
			return nil // a replay
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("reading event %d of run %s: %w", ev.Seq, id, err)
		}
		st, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := check(id, st, ev); err != nil {
			return err
		}
		created = true
		return apply(ctx, tx, id, st, ev, string(body), p)
	})
	if err != nil {
		return wire.Run{}, false, err
	}
	run, err = s.get(ctx, id)
	return run, created, err
}

// checkShape refuses an event malformed whatever the run's state.
func checkShape(id string, ev *wire.RunEvent) error {
	if id == "" || len(id) > maxIDLen {
		return fault.Field("id", "a run id of 1 to %d characters", maxIDLen)
	}
	if ev.Seq < 1 {
		return fault.Field("seq", "%d: events are numbered from 1", ev.Seq)
	}
	if ev.At.IsZero() {
		return fault.Field("at", "required")
	}
	ev.At = ev.At.UTC()
	for name, v := range map[string]string{"site": ev.Site, "camera": ev.Camera, "officer": ev.Officer, "step": ev.Step,
		"deviation": ev.Deviation, "finding": ev.Finding} {
		if len(v) > maxIDLen {
			return fault.Field(name, "over %d characters", maxIDLen)
		}
	}
	if len(ev.DeviationText) > 4000 {
		return fault.Field("deviation_text", "over 4000 characters")
	}
	switch ev.Kind {
	case wire.RunStarted:
		t := ev.Template
		switch {
		case t == nil || t.ID == "":
			return refuse(fault.Unprocessable, "unknown_template", "template", "a run starts with the template it follows")
		case t.Version < 1:
			return refuse(fault.Unprocessable, "unknown_template", "template.version", "template %s: version %d", t.ID, t.Version)
		case len(t.Steps) == 0:
			return refuse(fault.Unprocessable, "unknown_template", "template.steps", "template %s has no steps", t.ID)
		case ev.Site == "" || ev.Camera == "":
			return refuse(fault.Unprocessable, "unknown_camera", "camera", "a run is of a camera: site and camera are required")
		case ev.Officer == "":
			return fault.Field("officer", "required")
		}
	case wire.RunMarked, wire.RunTimerStarted, wire.RunTimerStopped:
		if ev.Step == "" {
			return fault.Field("step", "required")
		}
	case wire.RunFinding:
		if ev.Finding == "" {
			return fault.Field("finding", "required")
		}
	case wire.RunEnded:
	default:
		return fault.Field("kind", "%q is not one of started, marked, timer_started, timer_stopped, finding, ended", ev.Kind)
	}
	if ev.Kind != wire.RunStarted && (ev.Template != nil || ev.Site != "" || ev.Camera != "" || ev.Officer != "") {
		return fault.Field("template", "template, site, camera and officer go with the run's start only")
	}
	return nil
}

func refuse(kind fault.Kind, code, field, format string, args ...any) *fault.Error {
	e := fault.New(kind, code, format, args...)
	e.Field = field
	return e
}

// check refuses an event the run's state does not allow: out of order,
// after the end, before the start, or naming what the template has not.
func check(id string, st state, ev wire.RunEvent) error {
	switch {
	case !st.found && ev.Seq != 1:
		return refuse(fault.Conflict, "out_of_order", "seq", "run %s: event %d before its start (event 1)", id, ev.Seq)
	case !st.found && ev.Kind != wire.RunStarted:
		return refuse(fault.Unprocessable, "out_of_order", "kind", "run %s: event 1 is its start, not %q", id, ev.Kind)
	case !st.found:
		return nil
	case ev.Seq != st.seq+1:
		return refuse(fault.Conflict, "out_of_order", "seq", "run %s: event %d, but the relay has up to %d", id, ev.Seq, st.seq)
	case ev.Kind == wire.RunStarted:
		return refuse(fault.Conflict, "out_of_order", "kind", "run %s has started already", id)
	case st.ended:
		return refuse(fault.Conflict, "run_ended", "seq", "run %s has ended: nothing follows its end", id)
	case ev.At.Before(st.started):
		return refuse(fault.Unprocessable, "before_start", "at", "run %s: %s at %s, before the run started at %s",
			id, ev.Kind, ev.At.Format(time.RFC3339), st.started.Format(time.RFC3339))
	}
	t := st.template
	if ev.Step != "" && !slices.Contains(t.Steps, ev.Step) {
		return fault.Field("step", "template %s has no step %q", t.ID, ev.Step)
	}
	for i, f := range ev.Flags {
		if !slices.Contains(t.Steps, f.Step) {
			return fault.Field(fmt.Sprintf("flags[%d].step", i), "template %s has no step %q", t.ID, f.Step)
		}
	}
	if ev.Deviation != "" && !slices.Contains(t.Deviations, ev.Deviation) {
		return fault.Field("deviation", "template %s has no deviation %q", t.ID, ev.Deviation)
	}
	if ev.Kind != wire.RunMarked && (ev.Mark != "" || ev.Deviation != "" || ev.DeviationText != "") {
		return fault.Field("mark", "a mark goes with a marked event only")
	}
	if ev.Kind != wire.RunTimerStopped && ev.DurationMS != 0 {
		return fault.Field("duration_ms", "goes with a stopped timer only")
	}
	if ev.DurationMS < 0 {
		return fault.Field("duration_ms", "%d is negative", ev.DurationMS)
	}
	if ev.Kind == wire.RunMarked {
		switch ev.Mark {
		case wire.MarkDeviation:
			if ev.Deviation == "" && ev.DeviationText == "" {
				return fault.Field("deviation", "a deviation names the catalogue's entry or says it in words")
			}
		case wire.MarkDone, wire.MarkNotSeen, "":
			if ev.Deviation != "" || ev.DeviationText != "" {
				return fault.Field("deviation", "goes with the mark %q only", wire.MarkDeviation)
			}
		default:
			return fault.Field("mark", "%q is not one of done, deviation, not_seen or \"\"", ev.Mark)
		}
	}
	return nil
}

// load reads a run's state; found is false for a run the relay has not.
func load(ctx context.Context, tx *sql.Tx, id string) (state, error) {
	var st state
	var tpl, started, ended string
	err := tx.QueryRowContext(ctx, `SELECT template, started_at, ended_at, seq FROM runs WHERE id = ?`, id).
		Scan(&tpl, &started, &ended, &st.seq)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading run %s: %w", id, err)
	}
	st.found, st.ended = true, ended != ""
	if err := json.Unmarshal([]byte(tpl), &st.template); err != nil {
		return st, fmt.Errorf("reading the template of run %s: %w", id, err)
	}
	if st.started, err = sqlitedb.ParseTime(started); err != nil {
		return st, fmt.Errorf("reading run %s: %w", id, err)
	}
	return st, nil
}

// apply records an event checked against the run's state.
func apply(ctx context.Context, tx *sql.Tx, id string, st state, ev wire.RunEvent, body string, p auth.Principal) error {
	at := sqlitedb.FormatTime(ev.At)
	if ev.Kind == wire.RunStarted {
		tpl, err := json.Marshal(ev.Template)
		if err != nil {
			return fmt.Errorf("encoding the template of run %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO runs (id, site, camera, template_id, template_version, activity, template,
			officer, filed_by, started_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
			id, ev.Site, ev.Camera, ev.Template.ID, ev.Template.Version, ev.Template.Activity, string(tpl),
			ev.Officer, p.Name, at); err != nil {
			return fmt.Errorf("recording run %s: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO run_events (run_id, seq, kind, at, body) VALUES (?, ?, ?, ?, ?)`,
		id, ev.Seq, string(ev.Kind), at, body); err != nil {
		return fmt.Errorf("recording event %d of run %s: %w", ev.Seq, id, err)
	}
	ended := ""
	if ev.Kind == wire.RunEnded {
		ended = at
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET seq = ?, ended_at = CASE WHEN ? != '' THEN ? ELSE ended_at END WHERE id = ?`,
		ev.Seq, ended, ended, id); err != nil {
		return fmt.Errorf("recording event %d of run %s: %w", ev.Seq, id, err)
	}
	switch ev.Kind {
	case wire.RunMarked, wire.RunTimerStopped:
		mark, keepDuration := ev.Mark, 1
		if ev.Kind == wire.RunTimerStopped {
			mark, keepDuration = wire.MarkDone, 0
		}
		// A step marked again keeps the duration its timer measured, as
		// checklist.Run does.
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_steps (run_id, step, mark, deviation, deviation_text, at, duration_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (run_id, step) DO UPDATE SET mark = excluded.mark, deviation = excluded.deviation,
				deviation_text = excluded.deviation_text, at = excluded.at,
				duration_ms = CASE WHEN ? = 1 THEN run_steps.duration_ms ELSE excluded.duration_ms END`,
			id, ev.Step, mark, ev.Deviation, ev.DeviationText, at, ev.DurationMS, keepDuration); err != nil {
			return fmt.Errorf("recording the mark of %s in run %s: %w", ev.Step, id, err)
		}
	case wire.RunFinding:
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_findings (run_id, finding_id, seq) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, id, ev.Finding, ev.Seq); err != nil {
			return fmt.Errorf("recording finding %s of run %s: %w", ev.Finding, id, err)
		}
	}
	for _, f := range ev.Flags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_steps (run_id, step, flagged) VALUES (?, ?, 1)
			ON CONFLICT (run_id, step) DO UPDATE SET flagged = 1`, id, f.Step); err != nil {
			return fmt.Errorf("recording a flag on %s in run %s: %w", f.Step, id, err)
		}
	}
	return nil
}

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}
