package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

// ErrTransition refuses a status change the finding's status does not
// allow, such as verifying what the site has not reported rectified.
var ErrTransition = errors.New("the finding's status does not allow that")

// Statuses of a finding; the relay moves it through them once forwarded.
var statuses = map[string]bool{
	"open": true, "acknowledged": true, "rectified": true, "verified": true, "reopened": true, "withdrawn": true,
}

// IsStatus reports whether s is a status a finding can have.
func IsStatus(s string) bool { return statuses[s] }

// Verify closes a finding the site reported rectified, after the officer's
// re-check, and queues the verification for the relay.
func (s *Store) Verify(ctx context.Context, id, actor, note string) (Finding, error) {
	return s.recheck(ctx, id, actor, "verified", note, time.Time{})
}

// Reopen sends a finding the site reported rectified back to it, with a
// new deadline when one is given, and queues that for the relay.
func (s *Store) Reopen(ctx context.Context, id, actor, note string, deadline time.Time) (Finding, error) {
	return s.recheck(ctx, id, actor, "reopened", note, deadline)
}

func (s *Store) recheck(ctx context.Context, id, actor, to, note string, deadline time.Time) (Finding, error) {
	f, _, err := s.recheckWith(ctx, id, actor, to, note, deadline, nil, nil)
	return f, err
}

// RelayChange is a change of a finding at the relay, as its changes feed
// tells it: the finding's status and deadline there, and the history
// entry of the change.
type RelayChange struct {
	Cursor    int64
	FindingID string
	Status    string
	Deadline  time.Time
	Event     RelayEvent
	// Echo marks this console's own change coming back: its history is
	// already here, only the status is taken.
	Echo bool
}

// RelayEvent is a history entry made at the relay.
type RelayEvent struct {
	At     time.Time
	Actor  string
	Role   string
	Action string
	Detail json.RawMessage
}

// relayCursorKey is the settings key of the changes cursor of a relay:
// every relay numbers its own changes.
func relayCursorKey(relay string) string { return "relay_changes_cursor " + relay }

// RelayCursor returns the cursor after the last change taken from relay.
func (s *Store) RelayCursor(ctx context.Context, relay string) (int64, error) {
	v, ok, err := s.Setting(ctx, relayCursorKey(relay))
	if err != nil || !ok {
		return 0, err
	}
	var n int64
	if _, err := fmt.Sscan(v, &n); err != nil {
		return 0, fmt.Errorf("reading the changes cursor of %s: %q: %w", relay, v, err)
	}
	return n, nil
}

// ApplyRelayChanges applies changes taken from relay to the findings this
// console has, and records cursor as taken, in one transaction: a crash
// either applies them and moves the cursor, or neither. Changes of
// findings this console does not have are passed over. A finding with
// changes of its own still to send keeps its status: the relay's is older
// than the officer's, and the change on its way will come back. It
// returns how many changes were applied.
func (s *Store) ApplyRelayChanges(ctx context.Context, relay string, cursor int64, changes []RelayChange) (int, error) {
	n, _, err := s.applyRelayChanges(ctx, relay, cursor, changes)
	return n, err
}

// ApplyRelayChangesIDs is ApplyRelayChanges answering with the findings
// the changes applied changed, each once, in the order of their first
// change: what the views are to read again.
func (s *Store) ApplyRelayChangesIDs(ctx context.Context, relay string, cursor int64, changes []RelayChange) ([]string, error) {
	_, ids, err := s.applyRelayChanges(ctx, relay, cursor, changes)
	return ids, err
}

func (s *Store) applyRelayChanges(ctx context.Context, relay string, cursor int64, changes []RelayChange) (int, []string, error) {
	applied := 0
	var ids []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		applied, ids = 0, nil
		seen := make(map[string]bool)
		for _, c := range changes {
			ok, err := applyRelayChange(ctx, tx, relay, c)
			if err != nil {
				return err
			}
			if ok {
				applied++
				if !seen[c.FindingID] {
					seen[c.FindingID] = true
					ids = append(ids, c.FindingID)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			relayCursorKey(relay), fmt.Sprint(cursor), sqlitedb.FormatTime(s.now())); err != nil {
			return fmt.Errorf("recording the changes cursor: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return applied, ids, nil
}

// applyRelayChange applies one change from relay. A finding bound to
// another relay is passed over like one the console does not have: only
// its own relay's site may move it.
func applyRelayChange(ctx context.Context, tx *sql.Tx, relay string, c RelayChange) (bool, error) {
	var queued int
	err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM outbox
		WHERE finding_id = findings.id AND kind = 'finding' AND sent_at = '' AND failed_at = '')
		FROM findings WHERE id = ? AND relay IN (?, '')`, c.FindingID, relay).Scan(&queued)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", c.FindingID, err)
	}
	changed := false
	if !c.Echo {
		detail := c.Event.Detail
		if !json.Valid(detail) {
			detail = json.RawMessage("{}")
		}
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO finding_events (finding_id, at, actor, role, action, detail, relay_cursor)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.FindingID, sqlitedb.FormatTime(c.Event.At), c.Event.Actor, c.Event.Role, c.Event.Action, string(detail), c.Cursor)
		if err != nil {
			return false, fmt.Errorf("recording the relay's change %d of %s: %w", c.Cursor, c.FindingID, err)
		}
		n, _ := res.RowsAffected()
		changed = n > 0
	}
	if queued > 0 || !statuses[c.Status] {
		return changed, nil
	}
	// The site's note on its answer (the rectification's, say) is the
	// status note, as the officer's re-check note is.
	if note := eventNote(c.Event.Detail); note != "" && !c.Echo && statusActions[c.Event.Action] {
		if _, err := tx.ExecContext(ctx, `UPDATE findings SET status_note = ? WHERE id = ?`, note, c.FindingID); err != nil {
			return false, fmt.Errorf("applying the relay's status of %s: %w", c.FindingID, err)
		}
	}
	set := `UPDATE findings SET status = ?, updated_at = ?`
	args := []any{c.Status, sqlitedb.FormatTime(c.Event.At)}
	// Only a real change counts, and bumps updated_at.
	where := ` WHERE id = ? AND status != ?`
	if !c.Deadline.IsZero() {
		set += `, deadline = ?`
		args = append(args, sqlitedb.FormatTime(c.Deadline))
		where = ` WHERE id = ? AND (status != ? OR deadline != ?)`
	}
	args = append(args, c.FindingID, c.Status)
	if !c.Deadline.IsZero() {
		args = append(args, sqlitedb.FormatTime(c.Deadline))
	}
	res, err := tx.ExecContext(ctx, set+where, args...)
	if err != nil {
		return false, fmt.Errorf("applying the relay's status of %s: %w", c.FindingID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		changed = true
	}
	return changed, nil
}

// statusActions are the relay's actions that move a finding's status.
var statusActions = map[string]bool{
	"acknowledge": true, "rectify": true, "verify": true, "reopen": true, "withdraw": true,
}

// eventNote is the note a relay history entry carries, if any.
func eventNote(detail json.RawMessage) string {
	var d struct {
		Note string `json:"note"`
	}
	_ = json.Unmarshal(detail, &d)
	return d.Note
}

// TakeRelayStatus sets a finding's status and deadline to relay's, as
// ApplyRelayChanges does for the console's own change coming back: after
// the relay refused a change of the officer's, the console shows what the
// site sees again. A finding with changes still queued keeps its own.
func (s *Store) TakeRelayStatus(ctx context.Context, relay, id, status string, deadline time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := applyRelayChange(ctx, tx, relay, RelayChange{FindingID: id, Status: status, Deadline: deadline,
			Event: RelayEvent{At: s.now()}, Echo: true})
		return err
	})
}
