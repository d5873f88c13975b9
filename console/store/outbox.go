package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

// Kinds of outbox entries.
const (
	// OutboxFinding is the finding at a revision: revision 1 is the finding
	// as flagged (and its snapshot), later ones a change of it.
	OutboxFinding = "finding"
	// OutboxEvidence is the clip, once recorded.
	OutboxEvidence = "evidence"
	// OutboxRun (runs.go) is a checklist run's event.
)

// Forward states of a finding, from its outbox.
const (
	ForwardLocal     = "local"     // changes are waiting to be sent
	ForwardForwarded = "forwarded" // every change reached the relay
	ForwardFailing   = "failing"   // the relay refused a change, or cannot be reached
)

// SettingRelay is the setting with the relay the console last signed in
// to (its normalised base URL); the migration that bound findings to
// relays bound the older ones to it.
const SettingRelay = "relay"

// Forwarding records that a forwarder sends the findings bound to relay
// from now until done is called: the others' forward state says which
// relay they wait for.
func (s *Store) Forwarding(relay string) (done func()) {
	s.fwdMu.Lock()
	s.forwarding[relay]++
	s.fwdMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.fwdMu.Lock()
			defer s.fwdMu.Unlock()
			if s.forwarding[relay]--; s.forwarding[relay] <= 0 {
				delete(s.forwarding, relay)
			}
		})
	}
}

// forwardedTo reports whether a forwarder runs for relay.
func (s *Store) forwardedTo(relay string) bool {
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	return s.forwarding[relay] > 0
}

// Forward is where a finding stands in reaching the relay.
type Forward struct {
	State string `json:"state"`
	// Error is why the relay refused a change, or why the last attempt
	// failed while it is retried.
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
	// Retrying marks a failing state the forwarder is still retrying by
	// itself (the relay unreachable, say), which RetryFailed has nothing
	// to do for; without it the relay refused for good.
	Retrying bool `json:"retrying,omitempty"`
	// WaitingFor is the relay the finding was flagged under, when changes
	// of it are still to be sent and no forwarder sends to it (the console
	// is signed in to another relay, or to none): they go to that relay
	// only, once signed in to it again.
	WaitingFor string `json:"waiting_for,omitempty"`
}

// OutboxEntry is one change waiting to be sent to the relay.
type OutboxEntry struct {
	Seq       int64
	FindingID string
	Kind      string // OutboxFinding, OutboxEvidence
	Revision  int
	CreatedAt time.Time
	Attempts  int
	LastError string
	// NextAttempt is when the forwarder may try again; zero for at once.
	NextAttempt time.Time
	// EventID is, for a finding revision after the first, the history
	// entry that made it.
	EventID int64
}

// Queued is signalled after a change is committed: the outbox may have a
// new entry. The signal is coalesced; whoever waits re-reads the outbox.
func (s *Store) Queued() <-chan struct{} { return s.queued }

func (s *Store) signalQueued() {
	select {
	case s.queued <- struct{}{}:
	default:
	}
}

// Outbox returns up to limit entries neither sent nor failed, oldest first,
// whatever relay their findings are bound to.
func (s *Store) Outbox(ctx context.Context, limit int) ([]OutboxEntry, error) {
	return s.outbox(ctx, "", limit)
}

// OutboxFor returns up to limit entries neither sent nor failed of the
// findings and checklist runs bound to relay, oldest first: what a forwarder signed in to it
// may send. The others wait for their own relay.
func (s *Store) OutboxFor(ctx context.Context, relay string, limit int) ([]OutboxEntry, error) {
	if relay == "" {
		return nil, fmt.Errorf("%w: reading the outbox of a relay needs the relay", ErrInvalid)
	}
	return s.outbox(ctx, relay, limit)
}

func (s *Store) outbox(ctx context.Context, relay string, limit int) ([]OutboxEntry, error) {
	if limit <= 0 {
		limit = 1000
	}
	q := `SELECT seq, finding_id, kind, revision, created_at, attempts, last_error,
		next_attempt_at, coalesce(event_id, 0) FROM outbox WHERE sent_at = '' AND failed_at = ''`
	args := []any{}
	if relay != "" {
		q += ` AND (finding_id IN (SELECT id FROM findings WHERE relay = ?) OR finding_id IN (SELECT id FROM runs WHERE relay = ?)
			OR finding_id IN (SELECT id FROM watch_batches WHERE relay = ?))`
		args = append(args, relay, relay, relay)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY seq LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		var created, next string
		if err := rows.Scan(&e.Seq, &e.FindingID, &e.Kind, &e.Revision, &created, &e.Attempts, &e.LastError, &next, &e.EventID); err != nil {
			return nil, fmt.Errorf("reading the outbox: %w", err)
		}
		e.CreatedAt, _ = sqlitedb.ParseTime(created)
		if next != "" {
			e.NextAttempt, _ = sqlitedb.ParseTime(next)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	return out, nil
}

// BindUnbound binds the findings not yet bound to a relay (flagged before
// the console knew which relay it was on) to relay, the first one the
// console forwards to, and returns how many.
func (s *Store) BindUnbound(ctx context.Context, relay string) (int, error) {
	if relay == "" {
		return 0, fmt.Errorf("%w: binding findings needs a relay", ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE findings SET relay = ? WHERE relay = ''`, relay)
	if err != nil {
		return 0, fmt.Errorf("binding unbound findings to %s: %w", relay, err)
	}
	n, _ := res.RowsAffected()
	// Checklist runs go to the relay of their officer's sign-in likewise.
	if _, err := s.db.ExecContext(ctx, `UPDATE runs SET relay = ? WHERE relay = ''`, relay); err != nil {
		return 0, fmt.Errorf("binding unbound runs to %s: %w", relay, err)
	}
	return int(n), nil
}

// MarkSent records that the relay has an entry's change.
func (s *Store) MarkSent(ctx context.Context, seq int64) error {
	now := sqlitedb.FormatTime(s.now())
	return s.markOutbox(ctx, seq, `UPDATE outbox SET sent_at = ?, attempted_at = ?, attempts = attempts + 1, last_error = '' WHERE seq = ?`, now, now, seq)
}

// MarkFailed records that the relay refused an entry's change for good.
func (s *Store) MarkFailed(ctx context.Context, seq int64, reason string) error {
	now := sqlitedb.FormatTime(s.now())
	return s.markOutbox(ctx, seq, `UPDATE outbox SET failed_at = ?, attempted_at = ?, attempts = attempts + 1, last_error = ? WHERE seq = ?`,
		now, now, reason, seq)
}

// RecordAttempt records a failed attempt to be retried at next.
func (s *Store) RecordAttempt(ctx context.Context, seq int64, reason string, next time.Time) error {
	return s.markOutbox(ctx, seq, `UPDATE outbox SET attempted_at = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE seq = ?`,
		sqlitedb.FormatTime(s.now()), reason, sqlitedb.FormatTime(next), seq)
}

func (s *Store) markOutbox(ctx context.Context, seq int64, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return s.spaceErr(fmt.Errorf("recording outbox entry %d: %w", seq, err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: outbox entry %d", ErrNotFound, seq)
	}
	return nil
}

// loadForward derives f.Forward from the finding's outbox entries.
func (s *Store) loadForward(ctx context.Context, f *Finding) error {
	rows, err := s.db.QueryContext(ctx, `SELECT created_at, last_error, attempted_at, sent_at, failed_at
		FROM outbox WHERE finding_id = ? ORDER BY seq`, f.ID)
	if err != nil {
		return fmt.Errorf("reading the outbox of %s: %w", f.ID, err)
	}
	defer rows.Close()
	var failed, pending, sent *Forward
	for rows.Next() {
		var created, lastErr, attempted, sentAt, failedAt string
		if err := rows.Scan(&created, &lastErr, &attempted, &sentAt, &failedAt); err != nil {
			return fmt.Errorf("reading the outbox of %s: %w", f.ID, err)
		}
		switch {
		case failedAt != "":
			failed = &Forward{State: ForwardFailing, Error: lastErr, At: parseOr(failedAt, f.UpdatedAt)}
		case sentAt != "":
			sent = &Forward{State: ForwardForwarded, At: parseOr(sentAt, f.UpdatedAt)}
		case pending == nil && lastErr != "":
			pending = &Forward{State: ForwardFailing, Error: lastErr + " (retrying)", At: parseOr(attempted, f.UpdatedAt), Retrying: true}
		case pending == nil:
			pending = &Forward{State: ForwardLocal, At: parseOr(created, f.UpdatedAt)}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the outbox of %s: %w", f.ID, err)
	}
	// Changes kept for another relay are not being tried: the attempts
	// made there say nothing of now.
	waiting := pending != nil && f.Relay != "" && !s.forwardedTo(f.Relay)
	if waiting {
		pending = &Forward{State: ForwardLocal, At: pending.At}
	}
	// A refused change stays visible: the site is missing it whatever
	// went through after it.
	switch {
	case failed != nil:
		f.Forward = failed
	case pending != nil:
		f.Forward = pending
	case sent != nil:
		f.Forward = sent
	default:
		f.Forward = &Forward{State: ForwardLocal, At: f.FlaggedAt}
	}
	if waiting {
		f.Forward.WaitingFor = f.Relay
	}
	return nil
}

func parseOr(s string, dflt time.Time) time.Time {
	t, err := sqlitedb.ParseTime(s)
	if err != nil {
		return dflt
	}
	return t
}

// Original returns the finding as flagged, before any edit: what the relay
// is sent first, the same on every retry.
func (s *Store) Original(ctx context.Context, id string) (Finding, error) {
	f, err := s.Get(ctx, id)
	if err != nil {
		return Finding{}, err
	}
	var deadline string
	err = s.db.QueryRowContext(ctx, `SELECT severity, note, deadline FROM finding_originals WHERE id = ?`, id).
		Scan(&f.Severity, &f.Note, &deadline)
	if errors.Is(err, sql.ErrNoRows) {
		return Finding{}, fmt.Errorf("%w: %s has no original record", ErrNotFound, id)
	}
	if err != nil {
		return Finding{}, fmt.Errorf("reading %s as flagged: %w", id, err)
	}
	if f.Deadline, err = sqlitedb.ParseTime(deadline); err != nil {
		return Finding{}, fmt.Errorf("reading %s as flagged: %w", id, err)
	}
	f.Status, f.StatusNote, f.Revision = "open", "", 1
	return f, nil
}

// Change is a change of a finding after its flag, as the relay is to be
// told it.
type Change struct {
	// Action is the history's word: edited, withdrawn, verified, reopened.
	Action string
	Actor  string
	At     time.Time
	Detail map[string]any
	// Note is the finding's note once the change was made.
	Note string
}

// ChangeOf returns the change an outbox entry of a later revision carries.
func (s *Store) ChangeOf(ctx context.Context, e OutboxEntry) (Change, error) {
	if e.Kind != OutboxFinding || e.Revision < 2 || e.EventID == 0 {
		return Change{}, fmt.Errorf("%w: outbox entry %d is not a change after the flag", ErrInvalid, e.Seq)
	}
	var c Change
	var at, detail string
	err := s.db.QueryRowContext(ctx, `SELECT at, actor, action, detail FROM finding_events WHERE id = ? AND finding_id = ?`,
		e.EventID, e.FindingID).Scan(&at, &c.Actor, &c.Action, &detail)
	if errors.Is(err, sql.ErrNoRows) {
		return Change{}, fmt.Errorf("%w: history entry %d of %s", ErrNotFound, e.EventID, e.FindingID)
	}
	if err != nil {
		return Change{}, fmt.Errorf("reading change %d of %s: %w", e.Revision, e.FindingID, err)
	}
	c.At, _ = sqlitedb.ParseTime(at)
	if err := json.Unmarshal([]byte(detail), &c.Detail); err != nil {
		return Change{}, fmt.Errorf("reading change %d of %s: %w", e.Revision, e.FindingID, err)
	}
	if c.Note, err = s.noteAt(ctx, e.FindingID, e.EventID); err != nil {
		return Change{}, err
	}
	return c, nil
}

// noteAt replays the edits up to a history entry over the note as flagged.
func (s *Store) noteAt(ctx context.Context, id string, eventID int64) (string, error) {
	var note string
	if err := s.db.QueryRowContext(ctx, `SELECT note FROM finding_originals WHERE id = ?`, id).Scan(&note); err != nil {
		return "", fmt.Errorf("reading the note of %s as flagged: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT detail FROM finding_events
		WHERE finding_id = ? AND action = 'edited' AND id <= ? ORDER BY id`, id, eventID)
	if err != nil {
		return "", fmt.Errorf("reading the edits of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var detail string
		if err := rows.Scan(&detail); err != nil {
			return "", fmt.Errorf("reading the edits of %s: %w", id, err)
		}
		var d struct {
			Note *string `json:"note"`
		}
		if json.Unmarshal([]byte(detail), &d) == nil && d.Note != nil {
			note = *d.Note
		}
	}
	return note, rows.Err()
}

// ErrNothingFailing refuses a retry of a finding none of whose changes the
// relay refused.
var ErrNothingFailing = errors.New("none of the finding's changes failed")

// RetryFailed puts the entries of a finding the relay refused back in the
// outbox, as if never tried, and wakes the forwarder: the officer has
// dealt with the reason (the site added to the relay, say). It returns how
// many went back; ErrNothingFailing when none had failed, ErrNotFound for
// an unknown finding.
func (s *Store) RetryFailed(ctx context.Context, id string) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM findings WHERE id = ?`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		} else if err != nil {
			return fmt.Errorf("reading %s: %w", id, err)
		}
		// The attempts count stays: it is the entry's history, not its state.
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET failed_at = '', last_error = '', next_attempt_at = ''
			WHERE finding_id = ? AND failed_at != '' AND sent_at = ''`, id)
		if err != nil {
			return fmt.Errorf("queueing the failed changes of %s again: %w", id, err)
		}
		n, _ = res.RowsAffected()
		if n == 0 {
			return fmt.Errorf("%w: %s", ErrNothingFailing, id)
		}
		return nil
	})
	return int(n), err
}
