// Package store is the console's local SQLite: the findings duty officers
// flag, their evidence files (named by content hash, beside the database),
// their history, and the outbox that forwards every change to the relay.
// A flag is committed with its snapshot and its outbox entry in one
// transaction; the clip completes later and survives a crash as "incomplete".
package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/qianliyan/qianliyan/console/clip"
	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Errors callers tell apart.
var (
	ErrNotFound = errors.New("finding not found")
	ErrInvalid  = errors.New("invalid finding")
	// ErrForwarded refuses an edit to a finding the site has already seen:
	// from then on it changes only through the status flow.
	ErrForwarded = errors.New("the finding has been forwarded and can no longer be edited")
)

// Store is the console database and its evidence folder.
type Store struct {
	db  *sql.DB
	dir string
	now func() time.Time
	// queued is signalled after every commit, so that the forwarder
	// sends a new outbox entry at once instead of at its next poll.
	queued chan struct{}

	// forwarding counts the forwarders running per relay: a finding bound
	// to a relay none runs for is waiting for a sign-in to it.
	fwdMu      sync.Mutex
	forwarding map[string]int

	space space
	// feeds is how the relay's changes feed went (shared.go).
	feeds feeds
}

// Open opens DATA/console.db and DATA/evidence, creating them if need be.
func Open(ctx context.Context, dataDir string) (*Store, error) {
	for _, d := range []string{dataDir, filepath.Join(dataDir, "evidence", "partial")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	sub, _ := fs.Sub(migrations, "migrations")
	db, err := sqlitedb.Open(ctx, filepath.Join(dataDir, "console.db"), sub)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, dir: filepath.Join(dataDir, "evidence"), now: time.Now, queued: make(chan struct{}, 1),
		forwarding: make(map[string]int)}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// EvidencePath returns the path of an evidence file by its stored name.
func (s *Store) EvidencePath(name string) (string, error) {
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("%w: evidence name %q", ErrNotFound, name)
	}
	return filepath.Join(s.dir, name), nil
}

// PartialClipPath is where a clip is written while it records: a
// finding's by its id, a re-check's by RecheckClipID.
func (s *Store) PartialClipPath(id string) string {
	return filepath.Join(s.dir, "partial", id+".mp4")
}

// Severities a finding can have.
var severities = map[string]bool{"critical": true, "major": true, "minor": true}

// Evidence is a snapshot or clip of a finding.
type Evidence struct {
	Kind     string        `json:"kind"`
	State    string        `json:"state"` // recording, complete, incomplete
	File     string        `json:"file,omitempty"`
	SHA256   string        `json:"sha256,omitempty"`
	Bytes    int64         `json:"bytes"`
	Width    int           `json:"width,omitempty"`
	Height   int           `json:"height,omitempty"`
	StartsAt time.Time     `json:"starts_at,omitzero"`
	Duration time.Duration `json:"duration_ms"`
}

// MarshalJSON writes the duration in milliseconds, as its name says.
func (e Evidence) MarshalJSON() ([]byte, error) {
	type plain Evidence
	return json.Marshal(struct {
		plain
		Duration int64 `json:"duration_ms"`
	}{plain(e), e.Duration.Milliseconds()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Evidence) UnmarshalJSON(b []byte) error {
	type plain Evidence
	var v struct {
		plain
		Duration int64 `json:"duration_ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = Evidence(v.plain)
	e.Duration = time.Duration(v.Duration) * time.Millisecond
	return nil
}

// Finding is a deviation a duty officer flagged.
type Finding struct {
	ID              string `json:"id"`
	Site            string `json:"site"`
	Camera          string `json:"camera"`
	Zone            string `json:"zone"`
	TemplateID      string `json:"template_id,omitempty"`
	TemplateVersion int    `json:"template_version,omitempty"`
	Step            string `json:"step,omitempty"`
	Deviation       string `json:"deviation,omitempty"`
	DeviationText   string `json:"deviation_text"`
	// DeviationTitle is the catalogue's words for Deviation in each
	// language, so that every reader sees the finding in theirs; nil for
	// free text, which DeviationText gives as typed.
	DeviationTitle bilingual.Text `json:"deviation_title,omitempty"`
	Severity       string         `json:"severity"`
	Note           string         `json:"note"`
	Observer       string         `json:"observer"`
	ObservedAt     time.Time      `json:"observed_at"`
	FlaggedAt      time.Time      `json:"flagged_at"`
	Deadline       time.Time      `json:"deadline"`
	Status         string         `json:"status"`
	// Relay is the relay the finding was flagged under, the only one it is
	// forwarded to; empty until the console first forwards it.
	Relay      string    `json:"relay,omitempty"`
	StatusNote string    `json:"status_note,omitempty"`
	Revision   int       `json:"revision"`
	UpdatedAt  time.Time `json:"updated_at"`
	Snapshot   *Evidence `json:"snapshot,omitempty"`
	Clip       *Evidence `json:"clip,omitempty"`
	Forward    *Forward  `json:"forward,omitempty"`
	// Shared is where the finding comes from and what the relay has of it
	// (shared.go).
	Shared
}

// Flag is what the view sends when the officer flags a deviation.
type Flag struct {
	Site, Camera, Zone string
	TemplateID         string
	TemplateVersion    int
	Step               string
	Deviation          string
	DeviationText      string
	DeviationTitle     bilingual.Text
	Severity           string
	Note               string
	Observer           string
	ObservedAt         time.Time
	Deadline           time.Time
	// Snapshot is the JPEG of the frame on screen when the officer flagged.
	Snapshot             []byte
	SnapshotW, SnapshotH int
	// RecordClip makes a clip evidence row in state "recording".
	RecordClip bool
	// Detail goes with the "flagged" event: how ObservedAt was found, say.
	Detail map[string]any
	// Relay is the base URL of the relay the officer is signed in to, as
	// relayclient normalises it: the finding is forwarded to it only.
	// Empty leaves the finding unbound, for the next relay the console
	// forwards to.
	Relay string
}

func (f Flag) validate() error {
	var missing []string
	for name, v := range map[string]string{"site": f.Site, "camera": f.Camera, "deviation_text": f.DeviationText, "observer": f.Observer} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s missing", ErrInvalid, strings.Join(missing, ", "))
	}
	if !severities[f.Severity] {
		return fmt.Errorf("%w: severity %q is not one of critical, major, minor", ErrInvalid, f.Severity)
	}
	if f.ObservedAt.IsZero() || f.Deadline.IsZero() {
		return fmt.Errorf("%w: observed_at and deadline are required", ErrInvalid)
	}
	if len(f.Snapshot) > 0 && (len(f.Snapshot) < 3 || f.Snapshot[0] != 0xff || f.Snapshot[1] != 0xd8) {
		return fmt.Errorf("%w: the snapshot is not a JPEG", ErrInvalid)
	}
	return nil
}

// Create commits a flagged finding with its snapshot and queues it for the
// relay. When it returns without error the finding is on disk.
func (s *Store) Create(ctx context.Context, f Flag) (Finding, error) {
	if err := f.validate(); err != nil {
		return Finding{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Finding{}, fmt.Errorf("making finding id: %w", err)
	}
	// The snapshot file goes first: a file without a row is harmless, a row
	// without its file is lost evidence.
	var snap *Evidence
	if len(f.Snapshot) > 0 {
		name, sum, err := s.writeEvidence(f.Snapshot, ".jpg")
		if err != nil {
			return Finding{}, err
		}
		snap = &Evidence{Kind: "snapshot", State: "complete", File: name, SHA256: sum, Bytes: int64(len(f.Snapshot)), Width: f.SnapshotW, Height: f.SnapshotH}
	}
	now := s.now()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO findings (id, site, camera, zone, template_id, template_version, step,
			deviation, deviation_text, deviation_title, severity, note, observer, observed_at, flagged_at, deadline, updated_at, relay)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id.String(), f.Site, f.Camera, f.Zone, f.TemplateID, f.TemplateVersion, f.Step,
			f.Deviation, f.DeviationText, encodeTitle(f.DeviationTitle), f.Severity, f.Note, f.Observer,
			sqlitedb.FormatTime(f.ObservedAt), sqlitedb.FormatTime(now), sqlitedb.FormatTime(f.Deadline), sqlitedb.FormatTime(now),
			f.Relay); err != nil {
			return fmt.Errorf("inserting finding: %w", err)
		}
		if snap != nil {
			if err := insertEvidence(ctx, tx, id.String(), *snap); err != nil {
				return err
			}
		}
		if f.RecordClip {
			if err := insertEvidence(ctx, tx, id.String(), Evidence{Kind: "clip", State: "recording"}); err != nil {
				return err
			}
		}
		if err := addEvent(ctx, tx, id.String(), now, f.Observer, "flagged", f.Detail); err != nil {
			return err
		}
		return enqueue(ctx, tx, id.String(), "finding", 1, now)
	})
	if err != nil {
		return Finding{}, err
	}
	return s.Get(ctx, id.String())
}

// writeEvidence stores data under its SHA-256, durably, and returns the name.
func (s *Store) writeEvidence(data []byte, ext string) (name, sum string, err error) {
	name, sum, wrote, err := s.writeEvidenceFile(data, ext)
	if wrote {
		s.noteSpace(nil, true)
	}
	return name, sum, s.spaceErr(err)
}

func (s *Store) writeEvidenceFile(data []byte, ext string) (name, sum string, wrote bool, err error) {
	h := sha256.Sum256(data)
	sum = hex.EncodeToString(h[:])
	name = sum + ext
	path := filepath.Join(s.dir, name)
	if _, err := os.Stat(path); err == nil {
		return name, sum, false, nil // the same bytes are already kept
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return "", "", false, fmt.Errorf("writing evidence: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", "", false, fmt.Errorf("writing evidence: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", "", false, fmt.Errorf("syncing evidence: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", "", false, fmt.Errorf("writing evidence: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", "", false, fmt.Errorf("keeping evidence: %w", err)
	}
	return name, sum, true, nil
}

// FinishClip files a finding's clip as FileClip does, with no reason given
// for an incomplete one.
func (s *Store) FinishClip(ctx context.Context, id string, complete bool, startsAt time.Time, duration time.Duration, width, height int) error {
	return s.FileClip(ctx, id, clip.Result{Complete: complete, StartsAt: startsAt, Duration: duration, Width: width, Height: height})
}

// FileClip files a recorded clip (a finding's, or a re-check's by its
// RecheckClipID) under its content hash and
// records it as complete, or as incomplete and why, with its outbox entry.
// The recording's file stays where it was written until the record is
// committed: a filing the disk refused leaves everything as it was, to be
// filed again (or by RecoverClips), and never a record without its file.
func (s *Store) FileClip(ctx context.Context, id string, res clip.Result) error {
	partial := s.PartialClipPath(id)
	ev := Evidence{Kind: "clip", State: "incomplete", StartsAt: res.StartsAt, Duration: res.Duration, Width: res.Width, Height: res.Height}
	if res.Complete {
		ev.State = "complete"
	}
	reason := res.Reason
	kept := false
	if f, err := os.Open(partial); err == nil {
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("hashing clip of %s: %w", id, err)
		}
		ev.SHA256 = hex.EncodeToString(h.Sum(nil))
		ev.File, ev.Bytes = ev.SHA256+".mp4", n
		// A second name for the same file takes no space; the first goes
		// once the record is committed.
		if err := os.Link(partial, filepath.Join(s.dir, ev.File)); err != nil && !errors.Is(err, fs.ErrExist) {
			return s.spaceErr(fmt.Errorf("keeping clip of %s: %w", id, err))
		}
		kept = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("opening clip of %s: %w", id, err)
	} else if ev.State != "incomplete" || reason == "" {
		ev.State = "incomplete"
		reason = "no video of the clip reached the disk"
	}
	now := s.now()
	detail := map[string]any{"file": ev.File, "duration_ms": ev.Duration.Milliseconds()}
	if ev.State == "incomplete" {
		if reason == "" {
			reason = "the recording was cut short"
		}
		detail["reason"] = reason
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if event, ok := recheckClipEvent(id); ok {
			return fileRecheckClip(ctx, tx, event, ev, detail, now)
		}
		res, err := tx.ExecContext(ctx, `UPDATE evidence SET state = ?, file = ?, sha256 = ?, bytes = ?, width = ?, height = ?, starts_at = ?, duration_ms = ?
			WHERE finding_id = ? AND kind = 'clip'`,
			ev.State, ev.File, ev.SHA256, ev.Bytes, ev.Width, ev.Height, formatOptional(ev.StartsAt), ev.Duration.Milliseconds(), id)
		if err != nil {
			return fmt.Errorf("recording clip of %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s has no clip being recorded", ErrNotFound, id)
		}
		if err := addEvent(ctx, tx, id, now, "console", "clip_"+ev.State, detail); err != nil {
			return err
		}
		return enqueue(ctx, tx, id, "evidence", 0, now)
	})
	if err != nil {
		return err
	}
	if kept {
		if err := os.Remove(partial); err != nil {
			return fmt.Errorf("removing the recording of the filed clip of %s: %w", id, err)
		}
	}
	return nil
}

// RecoverClips files the clips a crash left recording, and those whose
// filing the disk refused until the console stopped: the file is cut to its
// last whole fragment and kept, its duration, picture size and start read
// from it, and the clip marked incomplete with why. It returns how many.
func (s *Store) RecoverClips(ctx context.Context) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT finding_id, starts_at FROM evidence WHERE kind = 'clip' AND state = 'recording'`)
	if err != nil {
		return 0, fmt.Errorf("listing unfinished clips: %w", err)
	}
	type pending struct {
		id     string
		starts string
	}
	var ps []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.id, &p.starts); err != nil {
			rows.Close()
			return 0, fmt.Errorf("listing unfinished clips: %w", err)
		}
		ps = append(ps, p)
	}
	rows.Close()
	rechecks, err := s.recheckClipsRecording(ctx)
	if err != nil {
		return 0, err
	}
	for id, starts := range rechecks {
		ps = append(ps, pending{id: id, starts: starts})
	}
	for _, p := range ps {
		res := recovered(s.PartialClipPath(p.id))
		if starts, err := sqlitedb.ParseTime(p.starts); err == nil {
			res.StartsAt = starts
		}
		if err := s.FileClip(ctx, p.id, res); err != nil {
			return 0, err
		}
	}
	return len(ps), nil
}

// recovered reads what a recording left at path when the console stopped
// before filing it.
func recovered(path string) clip.Result {
	res := clip.Result{Reason: "the console stopped while the clip was being recorded"}
	st, err := os.Stat(path)
	if err != nil {
		res.Reason = "the console stopped before any video of the clip reached the disk"
		return res
	}
	info, err := clip.Repair(path)
	if err != nil {
		res.Reason += "; its file is kept as it was: " + err.Error()
		return res
	}
	res.Duration, res.Width, res.Height = info.Duration, info.Width, info.Height
	// The file's last write is about when its last fragment's video
	// arrived: the video came in as fast as it plays.
	res.StartsAt = st.ModTime().Add(-info.Duration)
	if info.Cut > 0 {
		res.Reason += fmt.Sprintf("; %d bytes of a fragment cut short were taken off", info.Cut)
	}
	return res
}

// Edit changes what the officer may still change before the site sees it.
type Edit struct {
	Note     *string
	Severity *string
	Deadline *time.Time
}

// Update applies an edit by actor to a finding not yet forwarded.
func (s *Store) Update(ctx context.Context, id, actor string, e Edit) (Finding, error) {
	if e.Severity != nil && !severities[*e.Severity] {
		return Finding{}, fmt.Errorf("%w: severity %q is not one of critical, major, minor", ErrInvalid, *e.Severity)
	}
	now := s.now()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := editable(ctx, tx, id); err != nil {
			return err
		}
		detail := map[string]any{}
		if e.Note != nil {
			detail["note"] = *e.Note
			if _, err := tx.ExecContext(ctx, `UPDATE findings SET note = ? WHERE id = ?`, *e.Note, id); err != nil {
				return fmt.Errorf("editing %s: %w", id, err)
			}
		}
		if e.Severity != nil {
			detail["severity"] = *e.Severity
			if _, err := tx.ExecContext(ctx, `UPDATE findings SET severity = ? WHERE id = ?`, *e.Severity, id); err != nil {
				return fmt.Errorf("editing %s: %w", id, err)
			}
		}
		if e.Deadline != nil {
			detail["deadline"] = sqlitedb.FormatTime(*e.Deadline)
			if _, err := tx.ExecContext(ctx, `UPDATE findings SET deadline = ? WHERE id = ?`, sqlitedb.FormatTime(*e.Deadline), id); err != nil {
				return fmt.Errorf("editing %s: %w", id, err)
			}
		}
		return bump(ctx, tx, id, actor, "edited", detail, now)
	})
	if err != nil {
		return Finding{}, err
	}
	return s.Get(ctx, id)
}

// Withdraw takes a finding back, with a reason; nothing is ever deleted.
func (s *Store) Withdraw(ctx context.Context, id, actor, reason string) (Finding, error) {
	if strings.TrimSpace(reason) == "" {
		return Finding{}, fmt.Errorf("%w: a withdrawal needs a reason", ErrInvalid)
	}
	now := s.now()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM findings WHERE id = ?`, id).Scan(&status); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		} else if err != nil {
			return fmt.Errorf("reading %s: %w", id, err)
		}
		if status == "withdrawn" || status == "verified" {
			return fmt.Errorf("%w: the finding is %s", ErrInvalid, status)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE findings SET status = 'withdrawn', status_note = ? WHERE id = ?`, reason, id); err != nil {
			return fmt.Errorf("withdrawing %s: %w", id, err)
		}
		return bump(ctx, tx, id, actor, "withdrawn", map[string]any{"reason": reason}, now)
	})
	if err != nil {
		return Finding{}, err
	}
	return s.Get(ctx, id)
}

// editable refuses edits once any change of the finding reached the relay.
func editable(ctx context.Context, tx *sql.Tx, id string) error {
	var n, sent int
	err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM findings WHERE id = ?),
		(SELECT count(*) FROM outbox WHERE finding_id = ? AND sent_at != '')`, id, id).Scan(&n, &sent)
	if err != nil {
		return fmt.Errorf("reading %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if sent > 0 {
		return ErrForwarded
	}
	return nil
}

// bump records a change: a new revision, an event, and an outbox entry.
func bump(ctx context.Context, tx *sql.Tx, id, actor, action string, detail map[string]any, now time.Time) error {
	var rev int
	if err := tx.QueryRowContext(ctx, `UPDATE findings SET revision = revision + 1, updated_at = ? WHERE id = ? RETURNING revision`,
		sqlitedb.FormatTime(now), id).Scan(&rev); err != nil {
		return fmt.Errorf("recording change of %s: %w", id, err)
	}
	if err := addEvent(ctx, tx, id, now, actor, action, detail); err != nil {
		return err
	}
	return enqueue(ctx, tx, id, "finding", rev, now)
}

func insertEvidence(ctx context.Context, tx *sql.Tx, id string, ev Evidence) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO evidence (finding_id, kind, state, file, sha256, bytes, width, height, starts_at, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, ev.Kind, ev.State, ev.File, ev.SHA256, ev.Bytes, ev.Width, ev.Height, formatOptional(ev.StartsAt), ev.Duration.Milliseconds())
	if err != nil {
		return fmt.Errorf("recording %s of %s: %w", ev.Kind, id, err)
	}
	return nil
}

func addEvent(ctx context.Context, tx *sql.Tx, id string, at time.Time, actor, action string, detail map[string]any) error {
	b, err := json.Marshal(detail)
	if err != nil || detail == nil {
		b = []byte("{}")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO finding_events (finding_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)`,
		id, sqlitedb.FormatTime(at), actor, action, string(b)); err != nil {
		return fmt.Errorf("recording event of %s: %w", id, err)
	}
	return nil
}

func enqueue(ctx context.Context, tx *sql.Tx, id, kind string, revision int, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (finding_id, kind, revision, created_at) VALUES (?, ?, ?, ?)`,
		id, kind, revision, sqlitedb.FormatTime(now)); err != nil {
		return fmt.Errorf("queueing %s for the relay: %w", id, err)
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
		return s.spaceErr(err)
	}
	if err := tx.Commit(); err != nil {
		return s.spaceErr(fmt.Errorf("committing: %w", err))
	}
	s.signalQueued()
	return nil
}

func formatOptional(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return sqlitedb.FormatTime(t)
}
