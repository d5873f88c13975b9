package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

// Origins of a finding in the console store (issue 11 §1).
const (
	// OriginConsole is a finding flagged on this console, forwarded from it.
	OriginConsole = "console"
	// OriginRelay is a copy of a finding another console filed with the
	// relay, kept from the relay's changes feed: never filed again.
	OriginRelay = "relay"
)

// OutboxRecheck is the snapshot of a re-check, sent after the verify or
// reopen it documents (its EventID).
const OutboxRecheck = "recheck"

// Shared is what a finding has as the duty room's shared record: where it
// comes from, and the files the relay lists for it beyond the console's
// own snapshot and clip.
type Shared struct {
	// Origin is OriginConsole or OriginRelay.
	Origin string `json:"origin"`
	// Photos are the site's photos of its rectification, in order.
	Photos []RelayFile `json:"photos"`
	// Rechecks are the snapshots officers re-checked the finding on, each
	// with its verify or reopen, oldest first.
	Rechecks []RecheckFile `json:"rechecks"`
}

// RelayFile is an evidence file the relay lists for a finding. File is the
// name the console serves it under (GET /api/v1/evidence/{file}): fetched
// from the relay the first time it is asked for.
type RelayFile struct {
	Name        string    `json:"name"`
	File        string    `json:"file"`
	SHA256      string    `json:"sha256"`
	Bytes       int64     `json:"bytes"`
	ContentType string    `json:"content_type"`
	AddedAt     time.Time `json:"added_at"`
}

// RecheckFile is a re-check's evidence: its snapshot (File, "" when the
// view had no picture) and its clip, and who verified or reopened on them
// and when.
type RecheckFile struct {
	File   string    `json:"file"`
	SHA256 string    `json:"sha256"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	At     time.Time `json:"at"`
	// Clip is the video around the re-check: recording, then complete or
	// incomplete as a finding's clip is; nil when none was recorded.
	Clip *Evidence `json:"clip,omitempty"`
}

// RelayFinding is a finding as the relay reports it, for the console to
// keep a copy of (or, for its own, the relay's evidence of).
type RelayFinding struct {
	ID, Site, Camera, Zone string
	TemplateID             string
	TemplateVersion        int
	Step, Deviation        string
	DeviationText          string
	DeviationTitle         bilingual.Text
	Severity, Note         string
	Observer               string
	ObservedAt, FlaggedAt  time.Time
	Deadline, UpdatedAt    time.Time
	Status                 string
	Files                  []RelayFile
	// Events, when the relay gave them, are its whole history, for a copy
	// made now.
	Events []RelayChange
}

// feedState is how the relay's changes feed last went for one relay.
type feedState struct {
	at        time.Time // the last answer
	reachable bool
}

// feeds is how each relay's changes feed went since the console started.
type feeds struct {
	mu sync.Mutex
	m  map[string]feedState
}

// Freshness says how current the relay copies are: when the console last
// heard from relay's changes feed, and whether the last poll reached it.
type Freshness struct {
	Relay     string    `json:"relay"`
	AsOf      time.Time `json:"as_of,omitzero"`
	Reachable bool      `json:"reachable"`
}

// relayAsOfKey is the settings key of when the copies of relay's findings
// were last brought up to date.
func relayAsOfKey(relay string) string { return "relay_changes_as_of " + relay }

// NoteFeed records how a poll of relay's changes feed went: an answer
// (changes or none) makes the copies current as of now.
func (s *Store) NoteFeed(ctx context.Context, relay string, reached bool) error {
	now := s.now()
	s.feeds.mu.Lock()
	if s.feeds.m == nil {
		s.feeds.m = map[string]feedState{}
	}
	st := s.feeds.m[relay]
	st.reachable = reached
	if reached {
		st.at = now
	}
	s.feeds.m[relay] = st
	s.feeds.mu.Unlock()
	if !reached {
		return nil
	}
	return s.SetSetting(ctx, relayAsOfKey(relay), sqlitedb.FormatTime(now))
}

// Freshness returns how current the copies of relay's findings are. A
// relay no poll has reached since the console started is unreachable, as
// of the time kept from an earlier run, if any.
func (s *Store) Freshness(ctx context.Context, relay string) (Freshness, error) {
	fr := Freshness{Relay: relay}
	if relay == "" {
		return fr, nil
	}
	s.feeds.mu.Lock()
	st, ok := s.feeds.m[relay]
	s.feeds.mu.Unlock()
	if ok && !st.at.IsZero() {
		fr.AsOf, fr.Reachable = st.at, st.reachable
		return fr, nil
	}
	v, found, err := s.Setting(ctx, relayAsOfKey(relay))
	if err != nil {
		return fr, err
	}
	if found {
		fr.AsOf, _ = sqlitedb.ParseTime(v)
	}
	return fr, nil
}

// relayBackfillKey marks the relay whose findings were listed once.
func relayBackfillKey(relay string) string { return "relay_backfilled " + relay }

// Backfilled reports whether relay's findings were listed into the store.
func (s *Store) Backfilled(ctx context.Context, relay string) (bool, error) {
	_, ok, err := s.Setting(ctx, relayBackfillKey(relay))
	return ok, err
}

// Backfill keeps copies of the findings relay lists, as TakeRelayFindings
// does, and records that relay was listed, in one transaction.
func (s *Store) Backfill(ctx context.Context, relay string, fs []RelayFinding) ([]string, error) {
	var ids []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if ids, err = takeRelayFindings(ctx, tx, relay, fs); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			relayBackfillKey(relay), sqlitedb.FormatTime(s.now()), sqlitedb.FormatTime(s.now()))
		if err != nil {
			return fmt.Errorf("recording the list of %s: %w", relay, err)
		}
		return nil
	})
	return ids, err
}

// Has returns which of ids the store has a finding for.
func (s *Store) Has(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		var one int
		err := s.db.QueryRowContext(ctx, `SELECT 1 FROM findings WHERE id = ?`, id).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("reading %s: %w", id, err)
		}
		out[id] = err == nil
	}
	return out, nil
}

// ApplySharedChanges is ApplyRelayChangesIDs for the duty room's shared
// record: the findings the changes carry are first kept (a copy of each
// this console does not have, with its whole history when given; the
// relay's evidence list of every one), then the changes applied. A copy's
// change made on this console coming back is matched to the history entry
// it made here instead of being recorded twice. One transaction, the
// cursor with it.
func (s *Store) ApplySharedChanges(ctx context.Context, relay string, cursor int64, found []RelayFinding, changes []RelayChange) ([]string, error) {
	var ids []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ids = nil
		seen := make(map[string]bool)
		add := func(id string) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		made, err := takeRelayFindings(ctx, tx, relay, found)
		if err != nil {
			return err
		}
		for _, id := range made {
			add(id)
		}
		for _, c := range changes {
			if c, err = matchEcho(ctx, tx, relay, c); err != nil {
				return err
			}
			ok, err := applyRelayChange(ctx, tx, relay, c)
			if err != nil {
				return err
			}
			if ok {
				add(c.FindingID)
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
		return nil, err
	}
	return ids, nil
}

// localActions are the history's words for the relay's actions an officer
// takes on a copy.
var localActions = map[string]string{"verify": "verified", "reopen": "reopened"}

// matchEcho decides how a change of a copy is recorded. The copy's history
// comes from the relay, the officer's own entries included, unless this
// console made the entry: then its own entry is marked with the relay's
// cursor (so it is not recorded twice) and the change is its echo.
func matchEcho(ctx context.Context, tx *sql.Tx, relay string, c RelayChange) (RelayChange, error) {
	var origin string
	err := tx.QueryRowContext(ctx, `SELECT origin FROM findings WHERE id = ? AND relay = ?`, c.FindingID, relay).Scan(&origin)
	if errors.Is(err, sql.ErrNoRows) || origin != OriginRelay {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("reading %s: %w", c.FindingID, err)
	}
	c.Echo = false
	local, ok := localActions[c.Event.Action]
	if !ok {
		return c, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE finding_events SET relay_cursor = ?, role = ? WHERE id = (
		SELECT min(id) FROM finding_events WHERE finding_id = ? AND relay_cursor IS NULL AND actor = ? AND action = ?)`,
		c.Cursor, c.Event.Role, c.FindingID, c.Event.Actor, local)
	if err != nil {
		return c, fmt.Errorf("matching the relay's change %d of %s: %w", c.Cursor, c.FindingID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		c.Echo = true
	}
	return c, nil
}

// takeRelayFindings keeps what the relay says of findings: a copy of each
// the store does not have, and every one's evidence list. A copy already
// kept takes the relay's fields, but for its status while a change of the
// officer's is on its way. It returns the findings it made or changed.
func takeRelayFindings(ctx context.Context, tx *sql.Tx, relay string, fs []RelayFinding) ([]string, error) {
	var ids []string
	for _, f := range fs {
		var origin string
		var queued int
		err := tx.QueryRowContext(ctx, `SELECT origin, (SELECT count(*) FROM outbox
			WHERE finding_id = findings.id AND sent_at = '' AND failed_at = '') FROM findings WHERE id = ?`, f.ID).Scan(&origin, &queued)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := insertCopy(ctx, tx, relay, f); err != nil {
				return nil, err
			}
			ids = append(ids, f.ID)
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", f.ID, err)
		case origin == OriginRelay:
			set := `UPDATE findings SET severity = ?, note = ?, deadline = ?, updated_at = ?`
			args := []any{f.Severity, f.Note, sqlitedb.FormatTime(f.Deadline), sqlitedb.FormatTime(f.UpdatedAt)}
			if queued == 0 && statuses[f.Status] {
				set += `, status = ?`
				args = append(args, f.Status)
			}
			if _, err := tx.ExecContext(ctx, set+` WHERE id = ? AND relay = ?`, append(args, f.ID, relay)...); err != nil {
				return nil, fmt.Errorf("taking the relay's %s: %w", f.ID, err)
			}
		}
		files := f.Files
		if origin == OriginConsole {
			// Its own snapshot and clip the console has: the relay's copies
			// of them are nothing new.
			files = nil
			for _, rf := range f.Files {
				if rf.Name != "snapshot" && rf.Name != "clip" {
					files = append(files, rf)
				}
			}
		}
		changed, err := takeRelayFiles(ctx, tx, f.ID, files)
		if err != nil {
			return nil, err
		}
		if changed && (len(ids) == 0 || ids[len(ids)-1] != f.ID) {
			ids = append(ids, f.ID)
		}
	}
	return ids, nil
}

func insertCopy(ctx context.Context, tx *sql.Tx, relay string, f RelayFinding) error {
	status := f.Status
	if !statuses[status] {
		status = "open"
	}
	note := ""
	for _, e := range f.Events {
		if n := eventNote(e.Event.Detail); n != "" && statusActions[e.Event.Action] {
			note = n
		}
	}
	updated := f.UpdatedAt
	if updated.IsZero() {
		updated = f.FlaggedAt
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO findings (id, site, camera, zone, template_id, template_version, step,
		deviation, deviation_text, deviation_title, severity, note, observer, observed_at, flagged_at, deadline, status, status_note,
		updated_at, relay, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.Site, f.Camera, f.Zone, f.TemplateID, f.TemplateVersion, f.Step, f.Deviation, f.DeviationText,
		encodeTitle(f.DeviationTitle), f.Severity, f.Note, f.Observer, sqlitedb.FormatTime(f.ObservedAt),
		sqlitedb.FormatTime(f.FlaggedAt), sqlitedb.FormatTime(f.Deadline), status, note, sqlitedb.FormatTime(updated),
		relay, OriginRelay); err != nil {
		return fmt.Errorf("keeping a copy of %s: %w", f.ID, err)
	}
	for _, e := range f.Events {
		detail := e.Event.Detail
		if !json.Valid(detail) {
			detail = json.RawMessage("{}")
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO finding_events (finding_id, at, actor, role, action, detail, relay_cursor)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, f.ID, sqlitedb.FormatTime(e.Event.At), e.Event.Actor, e.Event.Role, e.Event.Action,
			string(detail), e.Cursor); err != nil {
			return fmt.Errorf("keeping the history of %s: %w", f.ID, err)
		}
	}
	return nil
}

// takeRelayFiles records the relay's evidence list of a finding; it
// reports whether anything was new.
func takeRelayFiles(ctx context.Context, tx *sql.Tx, id string, files []RelayFile) (bool, error) {
	changed := false
	for _, f := range files {
		if len(f.SHA256) != 64 || f.Name == "" {
			continue
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO relay_evidence (finding_id, name, sha256, bytes, content_type, added_at, file)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (finding_id, name) DO UPDATE SET sha256 = excluded.sha256, bytes = excluded.bytes,
			content_type = excluded.content_type, added_at = excluded.added_at, file = excluded.file
			WHERE sha256 != excluded.sha256`,
			id, f.Name, strings.ToLower(f.SHA256), f.Bytes, f.ContentType, formatOptional(f.AddedAt), relayFileName(f))
		if err != nil {
			return false, fmt.Errorf("recording the relay's %s of %s: %w", f.Name, id, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			changed = true
		}
	}
	return changed, nil
}

// relayFileName is the name a relay file is kept under: its SHA-256 and
// the extension of its type, as the console's own evidence is.
func relayFileName(f RelayFile) string {
	ext := ".bin"
	switch f.ContentType {
	case "image/jpeg":
		ext = ".jpg"
	case "image/png":
		ext = ".png"
	case "video/mp4":
		ext = ".mp4"
	default:
		if exts, _ := mime.ExtensionsByType(f.ContentType); len(exts) > 0 {
			ext = exts[0]
		}
	}
	return strings.ToLower(f.SHA256) + ext
}

// RelayFileOf returns the relay file kept under the name file: which
// finding's, and the relay's name for it, to fetch it by.
func (s *Store) RelayFileOf(ctx context.Context, file string) (findingID string, f RelayFile, err error) {
	var added string
	err = s.db.QueryRowContext(ctx, `SELECT finding_id, name, file, sha256, bytes, content_type, added_at FROM relay_evidence
		WHERE file = ? LIMIT 1`, file).Scan(&findingID, &f.Name, &f.File, &f.SHA256, &f.Bytes, &f.ContentType, &added)
	if errors.Is(err, sql.ErrNoRows) {
		return "", RelayFile{}, fmt.Errorf("%w: no relay evidence file %q", ErrNotFound, file)
	}
	if err != nil {
		return "", RelayFile{}, fmt.Errorf("looking up relay evidence file %q: %w", file, err)
	}
	f.AddedAt, _ = sqlitedb.ParseTime(added)
	return findingID, f, nil
}

// KeepRelayFile stores the bytes fetched for a relay file, checked against
// its SHA-256, where RelayFileOf's File names it.
func (s *Store) KeepRelayFile(f RelayFile, data []byte) error {
	name, sum, err := s.writeEvidence(data, "."+strings.SplitN(f.File, ".", 2)[1])
	if err != nil {
		return err
	}
	if !strings.EqualFold(sum, f.SHA256) || name != f.File {
		return fmt.Errorf("%w: the relay's %s is %s, its list says %s", ErrInvalid, f.Name, sum, f.SHA256)
	}
	return nil
}

// RecheckSnapshot is the frame an officer re-checked a finding on.
type RecheckSnapshot struct {
	JPEG          []byte
	Width, Height int
}

// VerifyWith is Verify keeping snap as the re-check's evidence.
func (s *Store) VerifyWith(ctx context.Context, id, actor, note string, snap *RecheckSnapshot) (Finding, error) {
	f, _, err := s.recheckWith(ctx, id, actor, "verified", note, time.Time{}, snap, nil)
	return f, err
}

// ReopenWith is Reopen keeping snap as the re-check's evidence.
func (s *Store) ReopenWith(ctx context.Context, id, actor, note string, deadline time.Time, snap *RecheckSnapshot) (Finding, error) {
	f, _, err := s.recheckWith(ctx, id, actor, "reopened", note, deadline, snap, nil)
	return f, err
}

// recheckWith records a re-check as recheck does, then, for a copy, the
// action id its change goes to the relay with, the snapshot, queued after
// the change (the relay attaches it to the change's event), and the clip
// to be recorded, queued once filed. It returns the change's history entry.
func (s *Store) recheckWith(ctx context.Context, id, actor, to, note string, deadline time.Time, snap *RecheckSnapshot, clip *RecheckClip) (Finding, int64, error) {
	if strings.TrimSpace(note) == "" {
		return Finding{}, 0, fmt.Errorf("%w: a re-check needs a note saying what was seen", ErrInvalid)
	}
	var file, sum string
	if snap != nil {
		if len(snap.JPEG) < 3 || snap.JPEG[0] != 0xff || snap.JPEG[1] != 0xd8 {
			return Finding{}, 0, fmt.Errorf("%w: the re-check's snapshot is not a JPEG", ErrInvalid)
		}
		var err error
		if file, sum, err = s.writeEvidence(snap.JPEG, ".jpg"); err != nil {
			return Finding{}, 0, err
		}
	}
	now := s.now()
	var event int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := recheckTx(ctx, tx, id, actor, to, note, deadline, now); err != nil {
			return err
		}
		var rev int
		var origin string
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT max(id) FROM finding_events WHERE finding_id = ?), revision, origin
			FROM findings WHERE id = ?`, id, id).Scan(&event, &rev, &origin); err != nil {
			return fmt.Errorf("reading the re-check of %s: %w", id, err)
		}
		if origin == OriginRelay {
			aid, err := uuid.NewV7()
			if err != nil {
				return fmt.Errorf("making an action id: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE finding_events SET action_id = ? WHERE id = ?`, aid.String(), event); err != nil {
				return fmt.Errorf("recording the re-check of %s: %w", id, err)
			}
		}
		if clip != nil {
			if err := insertRecheckClip(ctx, tx, id, event, rev, *clip); err != nil {
				return err
			}
		}
		if snap == nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO recheck_evidence (event_id, finding_id, file, sha256, bytes, width, height)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, event, id, file, sum, len(snap.JPEG), snap.Width, snap.Height); err != nil {
			return fmt.Errorf("recording the re-check's snapshot of %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (finding_id, kind, revision, created_at, event_id) VALUES (?, ?, ?, ?, ?)`,
			id, OutboxRecheck, rev, sqlitedb.FormatTime(now), event); err != nil {
			return fmt.Errorf("queueing the re-check's snapshot of %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return Finding{}, 0, err
	}
	f, err := s.Get(ctx, id)
	return f, event, err
}

// recheckTx records a re-check: the status, its note, a new deadline
// for a reopened one, and the change queued for the relay.
func recheckTx(ctx context.Context, tx *sql.Tx, id, actor, to, note string, deadline, now time.Time) error {
	var status string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM findings WHERE id = ?`, id).Scan(&status); errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	} else if err != nil {
		return fmt.Errorf("reading %s: %w", id, err)
	}
	if status != "rectified" {
		return fmt.Errorf("%w: the finding is %s; only a rectified finding can be %s", ErrTransition, status, to)
	}
	detail := map[string]any{"note": note}
	if _, err := tx.ExecContext(ctx, `UPDATE findings SET status = ?, status_note = ? WHERE id = ?`, to, note, id); err != nil {
		return fmt.Errorf("recording %s %s: %w", id, to, err)
	}
	if !deadline.IsZero() {
		detail["deadline"] = sqlitedb.FormatTime(deadline)
		if _, err := tx.ExecContext(ctx, `UPDATE findings SET deadline = ? WHERE id = ?`, sqlitedb.FormatTime(deadline), id); err != nil {
			return fmt.Errorf("recording %s %s: %w", id, to, err)
		}
	}
	return bump(ctx, tx, id, actor, to, detail, now)
}

// ActionIDOf is the relay action id a change of a copy was given; "" for a
// change of the console's own finding, whose id comes from its revision.
func (s *Store) ActionIDOf(ctx context.Context, eventID int64) (string, error) {
	var aid string
	err := s.db.QueryRowContext(ctx, `SELECT action_id FROM finding_events WHERE id = ?`, eventID).Scan(&aid)
	if err != nil {
		return "", fmt.Errorf("reading history entry %d: %w", eventID, err)
	}
	return aid, nil
}

// RecheckEvidence returns the snapshot a re-check (its history entry)
// kept.
func (s *Store) RecheckEvidence(ctx context.Context, eventID int64) (Evidence, error) {
	ev := Evidence{Kind: "recheck", State: "complete"}
	err := s.db.QueryRowContext(ctx, `SELECT file, sha256, bytes, width, height FROM recheck_evidence WHERE event_id = ?`, eventID).
		Scan(&ev.File, &ev.SHA256, &ev.Bytes, &ev.Width, &ev.Height)
	if errors.Is(err, sql.ErrNoRows) {
		return Evidence{}, fmt.Errorf("%w: history entry %d has no re-check snapshot", ErrNotFound, eventID)
	}
	if err != nil {
		return Evidence{}, fmt.Errorf("reading the re-check snapshot of %d: %w", eventID, err)
	}
	return ev, nil
}

// loadShared fills f.Shared, and what a copy has from the relay: its
// snapshot and clip, and a forward state saying the relay has it.
func (s *Store) loadShared(ctx context.Context, f *Finding) error {
	if err := s.db.QueryRowContext(ctx, `SELECT origin FROM findings WHERE id = ?`, f.ID).Scan(&f.Origin); err != nil {
		return fmt.Errorf("reading the origin of %s: %w", f.ID, err)
	}
	f.Photos, f.Rechecks = []RelayFile{}, []RecheckFile{}
	rows, err := s.db.QueryContext(ctx, `SELECT name, file, sha256, bytes, content_type, added_at FROM relay_evidence
		WHERE finding_id = ? ORDER BY added_at, name`, f.ID)
	if err != nil {
		return fmt.Errorf("reading the relay's evidence of %s: %w", f.ID, err)
	}
	var relayRechecks, relayClips []RelayFile
	for rows.Next() {
		var r RelayFile
		var added string
		if err := rows.Scan(&r.Name, &r.File, &r.SHA256, &r.Bytes, &r.ContentType, &added); err != nil {
			rows.Close()
			return fmt.Errorf("reading the relay's evidence of %s: %w", f.ID, err)
		}
		r.AddedAt, _ = sqlitedb.ParseTime(added)
		switch {
		case strings.HasPrefix(r.Name, "photo-"):
			f.Photos = append(f.Photos, r)
		case strings.HasPrefix(r.Name, "recheck-"):
			relayRechecks = append(relayRechecks, r)
		case strings.HasPrefix(r.Name, "recheck_clip-"):
			relayClips = append(relayClips, r)
		case f.Origin == OriginRelay && (r.Name == "snapshot" || r.Name == "clip"):
			ev := &Evidence{Kind: r.Name, State: "complete", File: r.File, SHA256: r.SHA256, Bytes: r.Bytes}
			if r.Name == "snapshot" {
				f.Snapshot = ev
			} else {
				f.Clip = ev
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the relay's evidence of %s: %w", f.ID, err)
	}
	// The console's own re-checks (a snapshot, a clip or both), then the
	// others' the relay lists.
	clips, err := s.recheckClipsOf(ctx, f.ID)
	if err != nil {
		return err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT e.id, coalesce(r.file, ''), coalesce(r.sha256, ''), e.actor, e.action, e.at
		FROM finding_events e LEFT JOIN recheck_evidence r ON r.event_id = e.id
		WHERE e.finding_id = ? AND (r.event_id IS NOT NULL OR e.id IN (SELECT event_id FROM recheck_clips WHERE finding_id = ?))
		ORDER BY e.id`, f.ID, f.ID)
	if err != nil {
		return fmt.Errorf("reading the re-checks of %s: %w", f.ID, err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var r RecheckFile
		var event int64
		var at string
		if err := rows.Scan(&event, &r.File, &r.SHA256, &r.Actor, &r.Action, &at); err != nil {
			rows.Close()
			return fmt.Errorf("reading the re-checks of %s: %w", f.ID, err)
		}
		r.At, _ = sqlitedb.ParseTime(at)
		if r.SHA256 != "" {
			have[r.SHA256] = true
		}
		if c := clips[event]; c != nil {
			r.Clip = c
			if c.SHA256 != "" {
				have[c.SHA256] = true
			}
		}
		f.Rechecks = append(f.Rechecks, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the re-checks of %s: %w", f.ID, err)
	}
	f.Rechecks = append(f.Rechecks, relayRecheckFiles(ctx, s.db, f.ID, relayRechecks, relayClips, have)...)
	if f.Origin == OriginRelay {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE finding_id = ?`, f.ID).Scan(&n); err != nil {
			return fmt.Errorf("reading the outbox of %s: %w", f.ID, err)
		}
		if n == 0 {
			f.Forward = &Forward{State: ForwardForwarded, At: f.UpdatedAt}
		}
	}
	return nil
}

// RecheckEvidenceFile looks a re-check's snapshot or clip up by its file
// name.
func (s *Store) RecheckEvidenceFile(ctx context.Context, name string) (Evidence, error) {
	ev := Evidence{Kind: "recheck", State: "complete"}
	err := s.db.QueryRowContext(ctx, `SELECT file, sha256, bytes, width, height FROM recheck_evidence WHERE file = ? LIMIT 1`, name).
		Scan(&ev.File, &ev.SHA256, &ev.Bytes, &ev.Width, &ev.Height)
	if errors.Is(err, sql.ErrNoRows) {
		return s.recheckClipFile(ctx, name)
	}
	if err != nil {
		return Evidence{}, fmt.Errorf("looking up evidence file %q: %w", name, err)
	}
	return ev, nil
}
