package review

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Bounds of what a supervisor writes.
const (
	MaxCommentChars   = 2000
	MaxDocNumberChars = 64
	MaxOutcomeNote    = 2000
)

// Get returns a finding's detail: the item, its whole history (the
// review's events among them), evidence, comments and the checklist run it
// came from.
func (s *Store) Get(ctx context.Context, by auth.Principal, id string) (wire.ReviewDetail, error) {
	if err := checkRead(by); err != nil {
		return wire.ReviewDetail{}, err
	}
	f, err := s.findings.Get(ctx, by, id)
	if errors.Is(err, findings.ErrNotFound) {
		return wire.ReviewDetail{}, fault.New(fault.NotFound, "unknown_finding", "no finding %q", id)
	}
	if err != nil {
		return wire.ReviewDetail{}, err
	}
	items, err := s.items(ctx, []string{id})
	if err != nil {
		return wire.ReviewDetail{}, err
	}
	if len(items) != 1 {
		return wire.ReviewDetail{}, fault.New(fault.NotFound, "unknown_finding", "no finding %q", id)
	}
	d := wire.ReviewDetail{ReviewItem: items[0], Comments: []wire.ReviewComment{}}
	d.Events = f.Events
	err = s.each(ctx, `SELECT id, author, at, text FROM review_comments WHERE finding_id = ? ORDER BY id`, []any{id}, func(scan func(...any) error) error {
		var c wire.ReviewComment
		var at string
		if err := scan(&c.ID, &c.By, &at, &c.Text); err != nil {
			return err
		}
		var err error
		c.At, err = sqlitedb.ParseTime(at)
		d.Comments = append(d.Comments, c)
		return err
	})
	if err != nil {
		return wire.ReviewDetail{}, err
	}
	if d.RunID != "" {
		run, err := s.runs.Get(ctx, by, d.RunID)
		if err != nil && fault.KindOf(err) != fault.NotFound {
			return wire.ReviewDetail{}, err
		}
		if err == nil {
			d.Run = &run
		}
	}
	return d, nil
}

// SetReviewed marks a finding reviewed by by, or takes the mark back. The
// same mark again changes nothing.
func (s *Store) SetReviewed(ctx context.Context, by auth.Principal, id string, reviewed bool) (wire.ReviewDetail, error) {
	err := s.write(ctx, by, id, func(tx *sql.Tx, at string) (bool, error) {
		var res sql.Result
		var err error
		action := wire.EventReviewed
		if reviewed {
			res, err = tx.ExecContext(ctx, `INSERT INTO review_marks (finding_id, reviewed_by, reviewed_at) VALUES (?, ?, ?)
				ON CONFLICT (finding_id) DO NOTHING`, id, by.Name, at)
		} else {
			action = wire.EventUnreviewed
			res, err = tx.ExecContext(ctx, `DELETE FROM review_marks WHERE finding_id = ?`, id)
		}
		if err != nil {
			return false, fmt.Errorf("marking finding %s %s: %w", id, action, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return false, nil
		}
		return true, addEvent(ctx, tx, id, at, by, action, map[string]any{})
	})
	if err != nil {
		return wire.ReviewDetail{}, err
	}
	return s.Get(ctx, by, id)
}

// AddComment adds a supervisor's comment to a finding.
func (s *Store) AddComment(ctx context.Context, by auth.Principal, id, text string) (wire.ReviewDetail, error) {
	text = strings.TrimSpace(text)
	if n := utf8.RuneCountInString(text); n < 1 || n > MaxCommentChars {
		return wire.ReviewDetail{}, fault.Field("text", "a comment is 1 to %d characters, not %d", MaxCommentChars, n)
	}
	err := s.write(ctx, by, id, func(tx *sql.Tx, at string) (bool, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO review_comments (finding_id, author, at, text) VALUES (?, ?, ?, ?)`, id, by.Name, at, text)
		if err != nil {
			return false, fmt.Errorf("commenting on finding %s: %w", id, err)
		}
		cid, err := res.LastInsertId()
		if err != nil {
			return false, fmt.Errorf("commenting on finding %s: %w", id, err)
		}
		return true, addEvent(ctx, tx, id, at, by, wire.EventCommented, map[string]any{"comment": cid, "text": text})
	})
	if err != nil {
		return wire.ReviewDetail{}, err
	}
	return s.Get(ctx, by, id)
}

// AddOutcome records an enforcement outcome against a finding (o's By and
// At are by's and now). The same kind and document number again changes
// nothing.
func (s *Store) AddOutcome(ctx context.Context, by auth.Principal, id string, o wire.Outcome) error {
	o.DocNumber, o.Note = strings.TrimSpace(o.DocNumber), strings.TrimSpace(o.Note)
	if !slices.Contains(OutcomeKinds, o.Kind) {
		return fault.Field("kind", "%q: want one of %s", o.Kind, strings.Join(OutcomeKinds, ", "))
	}
	if n := utf8.RuneCountInString(o.DocNumber); n < 1 || n > MaxDocNumberChars {
		return fault.Field("doc_number", "the document's number is 1 to %d characters, not %d", MaxDocNumberChars, n)
	}
	if n := utf8.RuneCountInString(o.Note); n > MaxOutcomeNote {
		return fault.Field("note", "over %d characters", MaxOutcomeNote)
	}
	return s.write(ctx, by, id, func(tx *sql.Tx, at string) (bool, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO review_outcomes (finding_id, kind, doc_number, note, author, at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (finding_id, kind, doc_number) DO NOTHING`, id, o.Kind, o.DocNumber, o.Note, by.Name, at)
		if err != nil {
			return false, fmt.Errorf("recording an outcome of finding %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return false, nil
		}
		return true, addEvent(ctx, tx, id, at, by, wire.EventOutcome, map[string]any{"kind": o.Kind, "doc_number": o.DocNumber, "note": o.Note})
	})
}

// write runs change in a transaction after checking that by may write and
// the finding exists; changed says whether it wrote anything, which is
// then indexed for the search.
func (s *Store) write(ctx context.Context, by auth.Principal, id string, change func(tx *sql.Tx, at string) (changed bool, err error)) error {
	if err := checkWrite(by); err != nil {
		return err
	}
	if err := findings.CheckID(id); err != nil {
		return fault.New(fault.NotFound, "unknown_finding", "no finding %q", id)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reviewing finding %s: %w", id, err)
	}
	defer tx.Rollback()
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM findings WHERE id = ?`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return fault.New(fault.NotFound, "unknown_finding", "no finding %q", id)
	} else if err != nil {
		return fmt.Errorf("reviewing finding %s: %w", id, err)
	}
	changed, err := change(tx, sqlitedb.FormatTime(s.now()))
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("reviewing finding %s: %w", id, err)
	}
	if changed {
		s.findings.Announce()
		if err := s.Index(ctx); err != nil {
			s.log.Error().Err(err).Str("finding", id).Msg("indexing a reviewed finding")
		}
	}
	return nil
}

// addEvent records a review's change in the finding's history: the
// changes feed's cursor moves, and the history shows who did what.
func addEvent(ctx context.Context, tx *sql.Tx, id, at string, by auth.Principal, action string, detail map[string]any) error {
	t, err := sqlitedb.ParseTime(at)
	if err != nil {
		return err
	}
	_, err = findings.RecordEvent(ctx, tx, id, t, by, action, detail)
	return err
}
