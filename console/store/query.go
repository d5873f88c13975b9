package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

// encodeTitle is the deviation_title column, empty for none.
func encodeTitle(t bilingual.Text) string {
	if len(t) == 0 {
		return ""
	}
	b, _ := json.Marshal(t) // a map of strings: cannot fail
	return string(b)
}

const findingColumns = `id, site, camera, zone, template_id, template_version, step, deviation, deviation_text,
	deviation_title, severity, note, observer, observed_at, flagged_at, deadline, status, status_note, revision, updated_at, relay`

// Get returns one finding with its evidence.
func (s *Store) Get(ctx context.Context, id string) (Finding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+findingColumns+` FROM findings WHERE id = ?`, id)
	if err != nil {
		return Finding{}, fmt.Errorf("reading finding %s: %w", id, err)
	}
	fs, err := s.scanFindings(ctx, rows)
	if err != nil {
		return Finding{}, err
	}
	if len(fs) == 0 {
		return Finding{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return fs[0], nil
}

// List returns the findings flagged since a time, newest first.
func (s *Store) List(ctx context.Context, since time.Time, limit int) ([]Finding, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+findingColumns+` FROM findings WHERE flagged_at >= ? ORDER BY flagged_at DESC, id DESC LIMIT ?`,
		sqlitedb.FormatTime(since), limit)
	if err != nil {
		return nil, fmt.Errorf("listing findings: %w", err)
	}
	return s.scanFindings(ctx, rows)
}

// Filter picks findings for Query; zero fields pick everything.
type Filter struct {
	// Since leaves out findings flagged before it.
	Since time.Time
	// Statuses keeps findings with one of them.
	Statuses []string
	// Overdue, when set, keeps only the findings whose deadline has passed
	// at Now and that are not closed (verified, withdrawn), or, false,
	// only the others: overdue is derived, as at the relay.
	Overdue *bool
	Now     time.Time
	// Limit caps the answer (1000).
	Limit int
}

// Query returns the findings the filter picks, newest first.
func (s *Store) Query(ctx context.Context, f Filter) ([]Finding, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where = append(where, `flagged_at >= ?`)
		args = append(args, sqlitedb.FormatTime(f.Since))
	}
	if len(f.Statuses) > 0 {
		for _, st := range f.Statuses {
			if !statuses[st] {
				return nil, fmt.Errorf("%w: status %q", ErrInvalid, st)
			}
			args = append(args, st)
		}
		where = append(where, `status IN (?`+strings.Repeat(`, ?`, len(f.Statuses)-1)+`)`)
	}
	if f.Overdue != nil {
		now := f.Now
		if now.IsZero() {
			now = s.now()
		}
		// Times are stored in one fixed-width UTC form: text order is time order.
		overdue := `(deadline < ? AND status NOT IN ('verified', 'withdrawn'))`
		if !*f.Overdue {
			overdue = `NOT ` + overdue
		}
		where = append(where, overdue)
		args = append(args, sqlitedb.FormatTime(now))
	}
	q := `SELECT ` + findingColumns + ` FROM findings`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY flagged_at DESC, id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing findings: %w", err)
	}
	return s.scanFindings(ctx, rows)
}

func (s *Store) scanFindings(ctx context.Context, rows *sql.Rows) ([]Finding, error) {
	var out []Finding
	for rows.Next() {
		var f Finding
		var observed, flagged, deadline, updated, title string
		if err := rows.Scan(&f.ID, &f.Site, &f.Camera, &f.Zone, &f.TemplateID, &f.TemplateVersion, &f.Step, &f.Deviation,
			&f.DeviationText, &title, &f.Severity, &f.Note, &f.Observer, &observed, &flagged, &deadline, &f.Status, &f.StatusNote,
			&f.Revision, &updated, &f.Relay); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading findings: %w", err)
		}
		if title != "" {
			if err := json.Unmarshal([]byte(title), &f.DeviationTitle); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading finding %s's deviation_title: %w", f.ID, err)
			}
		}
		var err error
		for _, p := range []struct {
			dst *time.Time
			src string
		}{{&f.ObservedAt, observed}, {&f.FlaggedAt, flagged}, {&f.Deadline, deadline}, {&f.UpdatedAt, updated}} {
			if *p.dst, err = sqlitedb.ParseTime(p.src); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading finding %s: %w", f.ID, err)
			}
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading findings: %w", err)
	}
	rows.Close()
	for i := range out {
		if err := s.loadEvidence(ctx, &out[i]); err != nil {
			return nil, err
		}
		if err := s.loadForward(ctx, &out[i]); err != nil {
			return nil, err
		}
		if err := s.loadShared(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) loadEvidence(ctx context.Context, f *Finding) error {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, state, file, sha256, bytes, width, height, starts_at, duration_ms
		FROM evidence WHERE finding_id = ?`, f.ID)
	if err != nil {
		return fmt.Errorf("reading evidence of %s: %w", f.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev Evidence
		var starts string
		var ms int64
		if err := rows.Scan(&ev.Kind, &ev.State, &ev.File, &ev.SHA256, &ev.Bytes, &ev.Width, &ev.Height, &starts, &ms); err != nil {
			return fmt.Errorf("reading evidence of %s: %w", f.ID, err)
		}
		if starts != "" {
			ev.StartsAt, _ = sqlitedb.ParseTime(starts)
		}
		ev.Duration = time.Duration(ms) * time.Millisecond
		switch ev.Kind {
		case "snapshot":
			f.Snapshot = &ev
		case "clip":
			f.Clip = &ev
		}
	}
	return rows.Err()
}

// EvidenceFile returns the evidence stored under a file name, so that only
// files a finding refers to are ever served.
func (s *Store) EvidenceFile(ctx context.Context, name string) (Evidence, error) {
	var ev Evidence
	var starts string
	var ms int64
	err := s.db.QueryRowContext(ctx, `SELECT kind, state, file, sha256, bytes, width, height, starts_at, duration_ms
		FROM evidence WHERE file = ? AND file != '' LIMIT 1`, name).
		Scan(&ev.Kind, &ev.State, &ev.File, &ev.SHA256, &ev.Bytes, &ev.Width, &ev.Height, &starts, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return Evidence{}, fmt.Errorf("%w: no evidence file %q", ErrNotFound, name)
	}
	if err != nil {
		return Evidence{}, fmt.Errorf("looking up evidence file %q: %w", name, err)
	}
	if starts != "" {
		ev.StartsAt, _ = sqlitedb.ParseTime(starts)
	}
	ev.Duration = time.Duration(ms) * time.Millisecond
	return ev, nil
}

// Event is one entry of a finding's history.
type Event struct {
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Detail json.RawMessage `json:"detail"`
}

// Events returns a finding's history, oldest first.
func (s *Store) Events(ctx context.Context, id string) ([]Event, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT at, actor, action, detail FROM finding_events WHERE finding_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", id, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at, detail string
		if err := rows.Scan(&at, &e.Actor, &e.Action, &detail); err != nil {
			return nil, fmt.Errorf("reading history of %s: %w", id, err)
		}
		e.At, _ = sqlitedb.ParseTime(at)
		e.Detail = json.RawMessage(detail)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PendingOutbox counts the changes not yet delivered to the relay.
func (s *Store) PendingOutbox(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE sent_at = ''`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("counting the outbox: %w", err)
	}
	return n, nil
}
