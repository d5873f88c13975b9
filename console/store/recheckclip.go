package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

// OutboxRecheckClip is the clip of a re-check, queued once it is filed,
// after the verify or reopen it documents (its EventID).
const OutboxRecheckClip = "recheck_clip"

// recheckClipPrefix makes a re-check clip's id for the clip recorder: the
// recorder files a finding's clip under the finding's id and a re-check's
// under this prefix and its history entry, and FileClip tells them apart
// by it (a finding's id is a UUID, never this).
const recheckClipPrefix = "recheck-"

// RecheckClipID is the id the clip recorder records a re-check's clip
// under: PartialClipPath and FileClip take it as they take a finding's.
func RecheckClipID(eventID int64) string {
	return recheckClipPrefix + strconv.FormatInt(eventID, 10)
}

// recheckClipEvent is the history entry a re-check clip's id names.
func recheckClipEvent(id string) (int64, bool) {
	n, ok := strings.CutPrefix(id, recheckClipPrefix)
	if !ok {
		return 0, false
	}
	ev, err := strconv.ParseInt(n, 10, 64)
	return ev, err == nil && ev > 0
}

// RecheckChange is a verify or reopen with the evidence it keeps: the
// frame re-checked on, and the camera whose clip is to be recorded around
// the moment.
type RecheckChange struct {
	ID, Actor, Note string
	// Reopen makes it a reopen, with Deadline; otherwise a verify.
	Reopen   bool
	Deadline time.Time
	Snapshot *RecheckSnapshot
	Clip     *RecheckClip
}

// RecheckClip is the camera a re-check was made on, whose clip is
// recorded: a row in state "recording" until the recorder files it.
type RecheckClip struct {
	Site, Camera, Stream string
}

// Recheck records a verify or reopen as VerifyWith and ReopenWith do, and,
// when the change names a camera, a clip being recorded for it. It returns
// the finding and the change's history entry (RecheckClipID's event).
func (s *Store) Recheck(ctx context.Context, c RecheckChange) (Finding, int64, error) {
	to := "verified"
	if c.Reopen {
		to = "reopened"
	}
	return s.recheckWith(ctx, c.ID, c.Actor, to, c.Note, c.Deadline, c.Snapshot, c.Clip)
}

// insertRecheckClip makes the clip row of re-check event, recording.
func insertRecheckClip(ctx context.Context, tx *sql.Tx, id string, event int64, rev int, c RecheckClip) error {
	if c.Site == "" || c.Camera == "" {
		return fmt.Errorf("%w: a re-check's clip names its site and camera", ErrInvalid)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO recheck_clips (event_id, finding_id, revision, site, camera, stream, state)
		VALUES (?, ?, ?, ?, ?, ?, 'recording')`, event, id, rev, c.Site, c.Camera, c.Stream); err != nil {
		return fmt.Errorf("recording the re-check's clip of %s: %w", id, err)
	}
	return nil
}

// RecheckClipEvidence is a re-check's clip as kept: its evidence, the
// camera it is of and the finding's revision the re-check made.
type RecheckClipEvidence struct {
	Evidence
	FindingID string
	EventID   int64
	Revision  int
	// Camera is SITE/CAMERA, the camera re-checked on.
	Camera string
}

// RecheckClipOf returns the clip of re-check eventID.
func (s *Store) RecheckClipOf(ctx context.Context, eventID int64) (RecheckClipEvidence, error) {
	rc, err := scanRecheckClip(s.db.QueryRowContext(ctx, recheckClipColumns+` WHERE event_id = ?`, eventID))
	if errors.Is(err, sql.ErrNoRows) {
		return RecheckClipEvidence{}, fmt.Errorf("%w: history entry %d has no re-check clip", ErrNotFound, eventID)
	}
	if err != nil {
		return RecheckClipEvidence{}, fmt.Errorf("reading the re-check clip of %d: %w", eventID, err)
	}
	return rc, nil
}

const recheckClipColumns = `SELECT event_id, finding_id, revision, site || '/' || camera, state, file, sha256, bytes, width, height,
	starts_at, duration_ms FROM recheck_clips`

func scanRecheckClip(row interface{ Scan(...any) error }) (RecheckClipEvidence, error) {
	rc := RecheckClipEvidence{Evidence: Evidence{Kind: OutboxRecheckClip}}
	var starts string
	var ms int64
	if err := row.Scan(&rc.EventID, &rc.FindingID, &rc.Revision, &rc.Camera, &rc.State, &rc.File, &rc.SHA256, &rc.Bytes,
		&rc.Width, &rc.Height, &starts, &ms); err != nil {
		return RecheckClipEvidence{}, err
	}
	if starts != "" {
		rc.StartsAt, _ = sqlitedb.ParseTime(starts)
	}
	rc.Duration = time.Duration(ms) * time.Millisecond
	return rc, nil
}

// fileRecheckClip records a re-check's clip as filed, with its history
// entry and its outbox entry, in tx: FileClip's part for a re-check.
func fileRecheckClip(ctx context.Context, tx *sql.Tx, event int64, ev Evidence, detail map[string]any, now time.Time) error {
	var id string
	var rev int
	err := tx.QueryRowContext(ctx, `UPDATE recheck_clips SET state = ?, file = ?, sha256 = ?, bytes = ?, width = ?, height = ?,
		starts_at = ?, duration_ms = ? WHERE event_id = ? RETURNING finding_id, revision`,
		ev.State, ev.File, ev.SHA256, ev.Bytes, ev.Width, ev.Height, formatOptional(ev.StartsAt), ev.Duration.Milliseconds(), event).
		Scan(&id, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: re-check %d has no clip being recorded", ErrNotFound, event)
	}
	if err != nil {
		return fmt.Errorf("recording the clip of re-check %d: %w", event, err)
	}
	detail["recheck_event"] = event
	if err := addEvent(ctx, tx, id, now, "console", "recheck_clip_"+ev.State, detail); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (finding_id, kind, revision, created_at, event_id) VALUES (?, ?, ?, ?, ?)`,
		id, OutboxRecheckClip, rev, sqlitedb.FormatTime(now), event); err != nil {
		return fmt.Errorf("queueing the clip of re-check %d: %w", event, err)
	}
	return nil
}

// recheckClipsRecording are the re-check clips a crash left recording, by
// the recorder's id, with when each started.
func (s *Store) recheckClipsRecording(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT event_id, starts_at FROM recheck_clips WHERE state = 'recording'`)
	if err != nil {
		return nil, fmt.Errorf("listing unfinished re-check clips: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var event int64
		var starts string
		if err := rows.Scan(&event, &starts); err != nil {
			return nil, fmt.Errorf("listing unfinished re-check clips: %w", err)
		}
		out[RecheckClipID(event)] = starts
	}
	return out, rows.Err()
}

// recheckClipFile looks a re-check's clip up by its file name.
func (s *Store) recheckClipFile(ctx context.Context, name string) (Evidence, error) {
	rc, err := scanRecheckClip(s.db.QueryRowContext(ctx, recheckClipColumns+` WHERE file = ? AND file != '' LIMIT 1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Evidence{}, fmt.Errorf("%w: no evidence file %q", ErrNotFound, name)
	}
	if err != nil {
		return Evidence{}, fmt.Errorf("looking up evidence file %q: %w", name, err)
	}
	return rc.Evidence, nil
}

// recheckClipsOf are the clips of a finding's re-checks, by history entry.
func (s *Store) recheckClipsOf(ctx context.Context, id string) (map[int64]*Evidence, error) {
	rows, err := s.db.QueryContext(ctx, recheckClipColumns+` WHERE finding_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("reading the re-check clips of %s: %w", id, err)
	}
	defer rows.Close()
	out := map[int64]*Evidence{}
	for rows.Next() {
		rc, err := scanRecheckClip(rows)
		if err != nil {
			return nil, fmt.Errorf("reading the re-check clips of %s: %w", id, err)
		}
		out[rc.EventID] = &rc.Evidence
	}
	return out, rows.Err()
}

// relayRecheckFiles are the re-checks the relay lists for a finding that
// the console did not make (have holds the hashes of those it did): the
// snapshot recheck-CURSOR and the clip recheck_clip-CURSOR of one verify
// or reopen go together, with its actor and time from the history entry
// of that cursor.
func relayRecheckFiles(ctx context.Context, db *sql.DB, id string, snaps, clips []RelayFile, have map[string]bool) []RecheckFile {
	type group struct {
		rc     RecheckFile
		cursor int64
	}
	var order []int64
	byCursor := map[int64]*group{}
	at := func(name, prefix string) *group {
		cursor, err := strconv.ParseInt(strings.TrimPrefix(name, prefix), 10, 64)
		if err != nil {
			cursor = -int64(len(order)) - 1 // unnamed: a group of its own
		}
		g := byCursor[cursor]
		if g == nil {
			g = &group{cursor: cursor}
			byCursor[cursor] = g
			order = append(order, cursor)
		}
		return g
	}
	for _, r := range snaps {
		if have[r.SHA256] {
			continue
		}
		g := at(r.Name, "recheck-")
		g.rc.File, g.rc.SHA256, g.rc.At = r.File, r.SHA256, r.AddedAt
	}
	for _, r := range clips {
		if have[r.SHA256] {
			continue
		}
		g := at(r.Name, "recheck_clip-")
		g.rc.Clip = &Evidence{Kind: OutboxRecheckClip, State: "complete", File: r.File, SHA256: r.SHA256, Bytes: r.Bytes}
		if g.rc.At.IsZero() {
			g.rc.At = r.AddedAt
		}
	}
	out := make([]RecheckFile, 0, len(order))
	for _, c := range order {
		g := byCursor[c]
		if c > 0 {
			var when string
			err := db.QueryRowContext(ctx, `SELECT actor, action, at FROM finding_events WHERE finding_id = ? AND relay_cursor = ?`,
				id, c).Scan(&g.rc.Actor, &g.rc.Action, &when)
			if err == nil {
				g.rc.At, _ = sqlitedb.ParseTime(when)
			}
		}
		out = append(out, g.rc)
	}
	return out
}
