package findings

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Store is the findings in the relay database (the package's own tables,
// no other) and their evidence files in a directory, named by content
// hash. That a site exists it asks Sites.
type Store struct {
	db    *sql.DB
	sites Sites
	dir   string
	now   func() time.Time

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every change
}

// Sites tells whether a site exists (relay/store.Store, whose catalogue
// sites are): a finding is filed only under a known site.
type Sites interface {
	HasSite(ctx context.Context, id string) (bool, error)
}

// Config is what a Store needs.
type Config struct {
	// DB is the relay database, its schema brought up to date by
	// relay/store.OpenDatabase.
	DB    *sql.DB
	Sites Sites
	// EvidenceDir holds the evidence files; created if missing.
	EvidenceDir string
	// Now is the clock of overdue and of event times (time.Now when nil).
	Now func() time.Time
}

// New returns the store.
func New(cfg Config) (*Store, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(cfg.EvidenceDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating evidence directory: %w", err)
	}
	return &Store{db: cfg.DB, sites: cfg.Sites, dir: cfg.EvidenceDir, now: cfg.Now, changed: make(chan struct{})}, nil
}

// Changed returns a channel closed at the next change. Take it before
// reading, so a change between the read and the wait is not missed.
func (s *Store) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Store) announce() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func formatTime(t time.Time) string { return sqlitedb.FormatTime(t) }

// Create files a finding the console sends. created is false when the
// same finding (same content) is already there; a different one with the
// same id is ErrConflict.
func (s *Store) Create(ctx context.Context, by auth.Principal, d Draft) (f Finding, created bool, err error) {
	if !MayFile(by.Role) {
		return Finding{}, false, fmt.Errorf("%w: a %s may not file findings", ErrForbidden, by.Role)
	}
	// The observer is who signed in to file it, whatever the draft says: a
	// console sends its signed-in user, and no one files in another's name.
	d.Observer = by.Name
	if err := validate(&d); err != nil {
		return Finding{}, false, err
	}
	content := canonical(d)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Finding{}, false, fmt.Errorf("filing finding %s: %w", d.ID, err)
	}
	defer tx.Rollback()
	var prev string
	switch err := tx.QueryRowContext(ctx, `SELECT content FROM findings WHERE id = ?`, d.ID).Scan(&prev); {
	case err == nil:
		if prev != content && !sameButObserver(prev, d) {
			return Finding{}, false, fmt.Errorf("%w: finding %s already exists with different content", ErrConflict, d.ID)
		}
		tx.Rollback()
		f, err := s.Get(ctx, by, d.ID)
		return f, false, err
	case !errors.Is(err, sql.ErrNoRows):
		return Finding{}, false, fmt.Errorf("filing finding %s: %w", d.ID, err)
	}
	if known, err := s.sites.HasSite(ctx, d.Site); err != nil {
		return Finding{}, false, fmt.Errorf("filing finding %s: %w", d.ID, err)
	} else if !known {
		return Finding{}, false, fmt.Errorf("%w: site %s does not exist", ErrUnknownSite, d.Site)
	}
	now := formatTime(s.now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO findings (id, site_id, camera_id, zone, template_id, template_version, step,
		deviation, deviation_text, deviation_title, severity, note, observer, observed_at, flagged_at, deadline, status, content, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.Site, d.Camera, d.Zone, d.TemplateID, d.TemplateVersion, d.Step, d.Deviation, d.DeviationText, encodeTitle(d.DeviationTitle), d.Severity,
		d.Note, d.Observer, formatTime(d.ObservedAt), formatTime(d.FlaggedAt), formatTime(d.Deadline), StatusOpen, content, now, now); err != nil {
		return Finding{}, false, fmt.Errorf("filing finding %s: %w", d.ID, err)
	}
	if _, err := addEvent(ctx, tx, d.ID, now, by, "created", map[string]any{
		"severity": d.Severity, "deadline": d.Deadline.UTC(), "observer": d.Observer}); err != nil {
		return Finding{}, false, err
	}
	if err := tx.Commit(); err != nil {
		return Finding{}, false, fmt.Errorf("filing finding %s: %w", d.ID, err)
	}
	s.announce()
	f, err = s.Get(ctx, by, d.ID)
	return f, true, err
}

// sameButObserver reports whether d is the draft filed as prev but for its
// observer: a console sending again, after a change of shift, what the
// officer before filed (the finding keeps its first observer).
func sameButObserver(prev string, d Draft) bool {
	var was Draft
	if err := json.Unmarshal([]byte(prev), &was); err != nil {
		return false
	}
	d.Observer = was.Observer
	return canonical(d) == prev
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func addEvent(ctx context.Context, tx execer, id, at string, by auth.Principal, action string, detail map[string]any) (int64, error) {
	b, err := json.Marshal(detail)
	if err != nil {
		return 0, fmt.Errorf("recording %s of finding %s: %w", action, id, err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO finding_events (finding_id, at, actor, role, action, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		id, at, by.Name, string(by.Role), action, string(b))
	if err != nil {
		return 0, fmt.Errorf("recording %s of finding %s: %w", action, id, err)
	}
	return res.LastInsertId()
}

// Act applies an action. The same ActionID again returns the finding as it
// is, changing nothing.
func (s *Store) Act(ctx context.Context, by auth.Principal, id string, req Request) (Finding, error) {
	done, err := s.check(ctx, by, id, req, len(req.Photos))
	if err != nil || done {
		return s.done(ctx, by, id, err)
	}
	var photos []*Upload
	defer func() { Discard(photos) }()
	for i, p := range req.Photos {
		if int64(len(p.Data)) > MaxPhotoBytes {
			return Finding{}, fmt.Errorf("%w: photo %d is over %d bytes", ErrTooLarge, i+1, MaxPhotoBytes)
		}
		if err := sniff("photo", p.ContentType, p.Data); err != nil {
			return Finding{}, fmt.Errorf("photo %d: %w", i+1, err)
		}
		u, err := s.ReceivePhoto(bytes.NewReader(p.Data))
		if err != nil {
			return Finding{}, fmt.Errorf("photo %d: %w", i+1, err)
		}
		photos = append(photos, u)
	}
	return s.apply(ctx, by, id, req, photos)
}

// ActWithPhotos is Act with the photos of a rectify received beforehand
// (ReceivePhoto), as the site page's form streams them in; req carries no
// photos of its own. The photos become the finding's when it applies, and
// are the caller's to Discard either way.
func (s *Store) ActWithPhotos(ctx context.Context, by auth.Principal, id string, req Request, photos []*Upload) (Finding, error) {
	if len(req.Photos) > 0 {
		return Finding{}, fmt.Errorf("%w: photos go either in the request or received, not both", ErrInvalid)
	}
	done, err := s.check(ctx, by, id, req, len(photos))
	if err != nil || done {
		return s.done(ctx, by, id, err)
	}
	return s.apply(ctx, by, id, req, photos)
}

// Check tells, without changing anything, whether Act would apply req
// (its photos aside, which Act checks as it reads them): nil when it
// would, done when the same action was applied before (Act returns the
// finding as it is), else the error Act would return. The site page asks
// before it reads a form's photos.
func (s *Store) Check(ctx context.Context, by auth.Principal, id string, req Request) (done bool, err error) {
	return s.check(ctx, by, id, req, 0)
}

func (s *Store) done(ctx context.Context, by auth.Principal, id string, err error) (Finding, error) {
	if err != nil {
		return Finding{}, err
	}
	return s.Get(ctx, by, id)
}

// check is what Act checks before it writes anything; photos is how many
// go with the action.
func (s *Store) check(ctx context.Context, by auth.Principal, id string, req Request, photos int) (done bool, err error) {
	if err := CheckID(id); err != nil {
		return false, err
	}
	if req.ActionID == "" || len(req.ActionID) > 128 {
		return false, fmt.Errorf("%w: action_id is required (up to 128 characters)", ErrInvalid)
	}
	if !ValidAction(req.Action) {
		return false, fmt.Errorf("%w: action %q is not one of edit, withdraw, verify, reopen, acknowledge, rectify", ErrInvalid, req.Action)
	}
	if len(req.Note) > maxText {
		return false, fmt.Errorf("%w: note is over %d bytes", ErrInvalid, maxText)
	}
	cur, err := s.get(ctx, id)
	if err != nil {
		return false, err
	}
	if !by.CanView(cur.Site) {
		return false, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	var applied string
	switch err := s.db.QueryRowContext(ctx, `SELECT finding_id FROM finding_actions WHERE action_id = ?`, req.ActionID).Scan(&applied); {
	case err == nil && applied == id:
		return true, nil
	case err == nil:
		return false, fmt.Errorf("%w: action %s was applied to another finding", ErrConflict, req.ActionID)
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("acting on finding %s: %w", id, err)
	}
	if !May(by.Role, req.Action) {
		return false, fmt.Errorf("%w: a %s may not %s a finding", ErrForbidden, by.Role, req.Action)
	}
	if req.Severity != nil && req.Action != ActEdit {
		return false, fmt.Errorf("%w: severity changes only with edit", ErrInvalid)
	}
	if req.Severity != nil && !validSeverity(*req.Severity) {
		return false, fmt.Errorf("%w: severity %q is not one of critical, major, minor", ErrInvalid, *req.Severity)
	}
	if req.Deadline != nil && req.Action != ActEdit && req.Action != ActReopen {
		return false, fmt.Errorf("%w: a deadline goes only with edit or reopen", ErrInvalid)
	}
	if req.Action == ActReopen && (req.Deadline == nil || !req.Deadline.After(s.now())) {
		return false, fmt.Errorf("%w: reopen needs a new deadline in the future", ErrInvalid)
	}
	if req.Deadline != nil && req.Deadline.Before(cur.ObservedAt) {
		return false, fmt.Errorf("%w: deadline is before the finding was observed", ErrInvalid)
	}
	if photos > 0 && req.Action != ActRectify {
		return false, fmt.Errorf("%w: photos go only with rectify", ErrInvalid)
	}
	if photos > MaxPhotos {
		return false, fmt.Errorf("%w: at most %d photos", ErrInvalid, MaxPhotos)
	}
	// Checked again in the transaction; here so that a refused action
	// reads and writes no photos.
	if _, err := Next(cur.Status, req.Action); err != nil {
		return false, err
	}
	return false, nil
}

// apply makes the change check allowed, the photos the finding's.
func (s *Store) apply(ctx context.Context, by auth.Principal, id string, req Request, uploads []*Upload) (Finding, error) {
	now := s.now()
	var photos []File
	for _, u := range uploads {
		f, err := u.keep(s.dir)
		if err != nil {
			return Finding{}, err
		}
		photos = append(photos, f)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Finding{}, fmt.Errorf("acting on finding %s: %w", id, err)
	}
	defer tx.Rollback()
	// Read again inside the transaction: another action may have won.
	var status Status
	if err := tx.QueryRowContext(ctx, `SELECT status FROM findings WHERE id = ?`, id).Scan(&status); err != nil {
		return Finding{}, fmt.Errorf("acting on finding %s: %w", id, err)
	}
	to, err := Next(status, req.Action)
	if err != nil {
		return Finding{}, err
	}
	at := formatTime(now)
	detail := map[string]any{"from": status, "to": to}
	if req.Note != "" {
		detail["note"] = req.Note
	}
	set, args := []string{"status = ?", "updated_at = ?"}, []any{to, at}
	if req.Severity != nil {
		set, args = append(set, "severity = ?"), append(args, *req.Severity)
		detail["severity"] = *req.Severity
	}
	if req.Deadline != nil {
		set, args = append(set, "deadline = ?"), append(args, formatTime(*req.Deadline))
		detail["deadline"] = req.Deadline.UTC()
	}
	if req.Action == ActEdit {
		// An edit's note is the finding's note after it (the console sends
		// it every time), so a note can be cleared.
		set, args = append(set, "note = ?"), append(args, req.Note)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE findings SET `+strings.Join(set, ", ")+` WHERE id = ?`, append(args, id)...); err != nil {
		return Finding{}, fmt.Errorf("acting on finding %s: %w", id, err)
	}
	var first int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(position), 0) FROM finding_evidence WHERE finding_id = ? AND kind = 'photo'`, id).Scan(&first); err != nil {
		return Finding{}, fmt.Errorf("adding photos to finding %s: %w", id, err)
	}
	var names []string
	for i, p := range photos {
		if _, err := tx.ExecContext(ctx, `INSERT INTO finding_evidence (finding_id, kind, position, sha256, bytes, content_type, added_at)
			VALUES (?, 'photo', ?, ?, ?, ?, ?)`, id, first+i+1, p.SHA256, p.Bytes, p.ContentType, at); err != nil {
			return Finding{}, fmt.Errorf("adding photos to finding %s: %w", id, err)
		}
		names = append(names, fmt.Sprintf("photo-%d", first+i+1))
	}
	if len(names) > 0 {
		detail["photos"] = names
	}
	ev, err := addEvent(ctx, tx, id, at, by, string(req.Action), detail)
	if err != nil {
		return Finding{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO finding_actions (action_id, finding_id, event_id) VALUES (?, ?, ?)`, req.ActionID, id, ev); err != nil {
		return Finding{}, fmt.Errorf("recording action %s: %w", req.ActionID, err)
	}
	if err := tx.Commit(); err != nil {
		return Finding{}, fmt.Errorf("acting on finding %s: %w", id, err)
	}
	s.announce()
	return s.Get(ctx, by, id)
}

// Get returns a finding with its events and evidence; another site's is
// ErrNotFound to a site manager.
func (s *Store) Get(ctx context.Context, by auth.Principal, id string) (Finding, error) {
	f, err := s.get(ctx, id)
	if err != nil {
		return Finding{}, err
	}
	if !by.CanView(f.Site) {
		return Finding{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if f.Events, err = s.events(ctx, id); err != nil {
		return Finding{}, err
	}
	if by.Role == auth.RoleSiteManager {
		// The supervisors' review (relay/review) is not the site's to read.
		f.Events = slices.DeleteFunc(f.Events, func(e Event) bool { return wire.IsReviewEvent(e.Action) })
	}
	return f, nil
}

const findingColumns = `id, site_id, camera_id, zone, template_id, template_version, step, deviation, deviation_text,
	deviation_title, severity, note, observer, observed_at, flagged_at, deadline, status, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func (s *Store) scan(row scanner) (Finding, error) {
	var f Finding
	var observed, flagged, deadline, created, updated, title string
	if err := row.Scan(&f.ID, &f.Site, &f.Camera, &f.Zone, &f.TemplateID, &f.TemplateVersion, &f.Step, &f.Deviation,
		&f.DeviationText, &title, &f.Severity, &f.Note, &f.Observer, &observed, &flagged, &deadline, &f.Status, &created, &updated); err != nil {
		return Finding{}, err
	}
	for _, t := range []struct {
		dst *time.Time
		src string
	}{{&f.ObservedAt, observed}, {&f.FlaggedAt, flagged}, {&f.Deadline, deadline}, {&f.CreatedAt, created}, {&f.UpdatedAt, updated}} {
		v, err := sqlitedb.ParseTime(t.src)
		if err != nil {
			return Finding{}, err
		}
		*t.dst = v
	}
	if title != "" {
		if err := json.Unmarshal([]byte(title), &f.DeviationTitle); err != nil {
			return Finding{}, fmt.Errorf("reading finding %s's deviation_title: %w", f.ID, err)
		}
	}
	f.Overdue = Overdue(f.Status, f.Deadline, s.now())
	f.Evidence.Photos = []File{}
	return f, nil
}

func (s *Store) get(ctx context.Context, id string) (Finding, error) {
	f, err := s.scan(s.db.QueryRowContext(ctx, `SELECT `+findingColumns+` FROM findings WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Finding{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Finding{}, fmt.Errorf("reading finding %s: %w", id, err)
	}
	if err := s.attachEvidence(ctx, []*Finding{&f}); err != nil {
		return Finding{}, err
	}
	return f, nil
}

// evidenceBatch keeps the IN list of attachEvidence under SQLite's limit
// on bound variables.
const evidenceBatch = 500

func (s *Store) attachEvidence(ctx context.Context, fs []*Finding) error {
	for len(fs) > evidenceBatch {
		if err := s.attachEvidence(ctx, fs[:evidenceBatch]); err != nil {
			return err
		}
		fs = fs[evidenceBatch:]
	}
	if len(fs) == 0 {
		return nil
	}
	byID := make(map[string]*Finding, len(fs))
	args := make([]any, len(fs))
	for i, f := range fs {
		byID[f.ID] = f
		args[i] = f.ID
	}
	rows, err := s.db.QueryContext(ctx, `SELECT finding_id, kind, position, sha256, bytes, content_type, added_at FROM finding_evidence
		WHERE finding_id IN (?`+strings.Repeat(", ?", len(fs)-1)+`) ORDER BY finding_id, kind, position`, args...)
	if err != nil {
		return fmt.Errorf("reading evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, kind, added string
		var pos int
		var file File
		if err := rows.Scan(&id, &kind, &pos, &file.SHA256, &file.Bytes, &file.ContentType, &added); err != nil {
			return fmt.Errorf("reading evidence: %w", err)
		}
		if file.AddedAt, err = sqlitedb.ParseTime(added); err != nil {
			return err
		}
		f := byID[id]
		file.Name = kind
		if kind == "photo" || kind == wire.EvidenceRecheck || kind == wire.EvidenceRecheckClip {
			file.Name = fmt.Sprintf("%s-%d", kind, pos)
		}
		file.URL = "/api/v1/evidence/" + id + "/" + file.Name
		switch kind {
		case "snapshot":
			f.Evidence.Snapshot = &file
		case "clip":
			f.Evidence.Clip = &file
		case wire.EvidenceRecheck:
			f.Evidence.Rechecks = append(f.Evidence.Rechecks, file)
		case wire.EvidenceRecheckClip:
			f.Evidence.RecheckClips = append(f.Evidence.RecheckClips, file)
		default:
			f.Evidence.Photos = append(f.Evidence.Photos, file)
		}
	}
	return rows.Err()
}

func (s *Store) events(ctx context.Context, id string) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, actor, role, action, detail FROM finding_events WHERE finding_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("reading events of finding %s: %w", id, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("reading events of finding %s: %w", id, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanEvent(row scanner, extra ...any) (Event, error) {
	var e Event
	var at, detail string
	if err := row.Scan(append([]any{&e.Cursor, &at, &e.Actor, &e.Role, &e.Action, &detail}, extra...)...); err != nil {
		return Event{}, err
	}
	t, err := sqlitedb.ParseTime(at)
	if err != nil {
		return Event{}, err
	}
	e.At, e.Detail = t, json.RawMessage(detail)
	return e, nil
}

// Filter narrows a list.
type Filter struct {
	Site     string
	Statuses []Status
	// Overdue, when set, keeps only findings that are (or are not) overdue.
	Overdue *bool
	// ClosedSince, when set, leaves out findings closed (verified,
	// withdrawn) before it.
	ClosedSince time.Time
}

// List returns the findings by may see, those the site must act on first,
// then by deadline.
func (s *Store) List(ctx context.Context, by auth.Principal, flt Filter) ([]Finding, error) {
	q, args := `SELECT `+findingColumns+` FROM findings WHERE 1 = 1`, []any{}
	if flt.Site != "" {
		q, args = q+` AND site_id = ?`, append(args, flt.Site)
	}
	if len(flt.Statuses) > 0 {
		q += ` AND status IN (?` + strings.Repeat(", ?", len(flt.Statuses)-1) + `)`
		for _, st := range flt.Statuses {
			args = append(args, st)
		}
	}
	if !flt.ClosedSince.IsZero() {
		q += ` AND (status NOT IN ('verified', 'withdrawn') OR updated_at >= ?)`
		args = append(args, formatTime(flt.ClosedSince))
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing findings: %w", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		f, err := s.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("listing findings: %w", err)
		}
		if !by.CanView(f.Site) || (flt.Overdue != nil && f.Overdue != *flt.Overdue) {
			continue
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing findings: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rank(out[i].Status), rank(out[j].Status); ri != rj {
			return ri < rj
		}
		if !out[i].Deadline.Equal(out[j].Deadline) {
			return out[i].Deadline.Before(out[j].Deadline)
		}
		return out[i].ID < out[j].ID
	})
	ptrs := make([]*Finding, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	if err := s.attachEvidence(ctx, ptrs); err != nil {
		return nil, err
	}
	if out == nil {
		out = []Finding{}
	}
	return out, nil
}

// Changes returns up to limit changes after cursor, oldest first, each with
// its finding as it is now (without its events).
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]Change, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, actor, role, action, detail, finding_id FROM finding_events
		WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading changes after %d: %w", after, err)
	}
	var out []Change
	var ids []string
	for rows.Next() {
		var fid string
		e, err := scanEvent(rows, &fid)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading changes after %d: %w", after, err)
		}
		out = append(out, Change{Cursor: e.Cursor, Event: e})
		ids = append(ids, fid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading changes after %d: %w", after, err)
	}
	cache := map[string]Finding{}
	for i, id := range ids {
		f, ok := cache[id]
		if !ok {
			if f, err = s.get(ctx, id); err != nil {
				return nil, err
			}
			cache[id] = f
		}
		out[i].Finding = f
	}
	return out, nil
}

// Cursor returns the newest change's cursor (0 when there is none).
func (s *Store) Cursor(ctx context.Context) (int64, error) {
	var c sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(id) FROM finding_events`).Scan(&c); err != nil {
		return 0, fmt.Errorf("reading the change cursor: %w", err)
	}
	return c.Int64, nil
}

// Active returns every finding not closed (for deadline reminders), any site.
func (s *Store) Active(ctx context.Context) ([]Finding, error) {
	return s.List(ctx, auth.Principal{Role: auth.RoleAdmin}, Filter{
		Statuses: []Status{StatusOpen, StatusAcknowledged, StatusRectified, StatusReopened}})
}

// evidenceKinds says what each kind of evidence may be.
var evidenceKinds = map[string]struct {
	types []string
	max   int64
}{
	"snapshot": {[]string{"image/jpeg"}, MaxSnapshotBytes},
	"clip":     {[]string{"video/mp4"}, MaxClipBytes},
	"photo":    {[]string{"image/jpeg", "image/png"}, MaxPhotoBytes},
	"recheck":  {[]string{"image/jpeg"}, MaxSnapshotBytes},
	// The clip around a re-check is a finding's clip.
	"recheck_clip": {[]string{"video/mp4"}, MaxClipBytes},
}

// MaxEvidenceBytes returns the size limit of kind (snapshot, clip), 0 for
// an unknown kind.
func MaxEvidenceBytes(kind string) int64 { return evidenceKinds[kind].max }

// sniff checks that data starts as its content type says.
func sniff(kind, contentType string, data []byte) error {
	k, ok := evidenceKinds[kind]
	if !ok {
		return fmt.Errorf("%w: evidence is snapshot, clip, photo, recheck or recheck_clip, not %q", ErrBadEvidence, kind)
	}
	if !slices.Contains(k.types, contentType) {
		return fmt.Errorf("%w: a %s is %s, not %q", ErrContentType, kind, strings.Join(k.types, " or "), contentType)
	}
	var good bool
	switch contentType {
	case "image/jpeg":
		good = len(data) >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff
	case "image/png":
		good = len(data) >= 8 && string(data[:8]) == "\x89PNG\r\n\x1a\n"
	case "video/mp4":
		good = len(data) >= 8 && string(data[4:8]) == "ftyp"
	}
	if !good {
		return fmt.Errorf("%w: the %s's bytes are not %s", ErrInvalid, kind, contentType)
	}
	return nil
}

// save writes r (at most max bytes) to the evidence directory under its
// SHA-256; want, when set, is the hex digest the sender claims.
func (s *Store) save(contentType string, r io.Reader, max int64, want string) (File, error) {
	path, file, err := s.receive(contentType, r, max, want)
	if err != nil {
		return File{}, err
	}
	u := &Upload{path: path, file: file}
	defer Discard([]*Upload{u}) // once kept, a no-op
	return u.keep(s.dir)
}

// receive writes r (at most max bytes) to a temporary file of the evidence
// directory, hashing it as it goes; want, when set, is the hex digest the
// sender claims. On failure nothing is left behind.
func (s *Store) receive(contentType string, r io.Reader, max int64, want string) (path string, file File, err error) {
	tmp, err := os.CreateTemp(s.dir, ".upload-*")
	if err != nil {
		return "", File{}, fmt.Errorf("saving evidence: %w", err)
	}
	defer func() {
		tmp.Close()
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	if err != nil {
		return "", File{}, fmt.Errorf("saving evidence: %w", err)
	}
	if n > max {
		return "", File{}, fmt.Errorf("%w: over %d bytes", ErrTooLarge, max)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if want != "" && !strings.EqualFold(want, sum) {
		return "", File{}, fmt.Errorf("%w: X-Content-SHA256 says %s, the body's is %s", ErrDigest, want, sum)
	}
	if err := tmp.Sync(); err != nil {
		return "", File{}, fmt.Errorf("saving evidence: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", File{}, fmt.Errorf("saving evidence: %w", err)
	}
	return tmp.Name(), File{SHA256: sum, Bytes: n, ContentType: contentType}, nil
}

// Upload is a rectification photo received into the evidence directory
// (ReceivePhoto) that is no finding's yet: ActWithPhotos makes it one's,
// Discard removes it.
type Upload struct {
	path string // the temporary file; "" once kept or discarded
	file File
}

// File is the photo as it would be kept: its digest, size and type.
func (u *Upload) File() File { return u.file }

// keep moves the photo to its place in dir, named by its content.
func (u *Upload) keep(dir string) (File, error) {
	if u.path == "" {
		return File{}, errors.New("keeping a photo: already kept or discarded")
	}
	if err := os.Rename(u.path, filepath.Join(dir, u.file.SHA256)); err != nil {
		return File{}, fmt.Errorf("keeping a photo: %w", err)
	}
	u.path = ""
	return u.file, nil
}

// Discard removes the uploads no finding took; those kept stay.
func Discard(uploads []*Upload) {
	for _, u := range uploads {
		if u != nil && u.path != "" {
			os.Remove(u.path)
			u.path = ""
		}
	}
}

// ReceivePhoto writes a photo to the evidence directory as it reads it
// from r, hashing it as it goes: a JPEG or PNG by its first bytes
// (ErrContentType otherwise) of at most MaxPhotoBytes (ErrTooLarge past
// them, read no further). A refused photo leaves nothing behind; an
// accepted one is the caller's to give to ActWithPhotos or Discard.
func (s *Store) ReceivePhoto(r io.Reader) (*Upload, error) {
	head := make([]byte, 8)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("receiving a photo: %w", err)
	}
	head = head[:n]
	ctype := ""
	for _, t := range evidenceKinds["photo"].types {
		if sniff("photo", t, head) == nil {
			ctype = t
		}
	}
	if ctype == "" {
		return nil, fmt.Errorf("%w: a photo is a JPEG or PNG", ErrContentType)
	}
	path, file, err := s.receive(ctype, io.MultiReader(bytes.NewReader(head), r), MaxPhotoBytes, "")
	if err != nil {
		return nil, err
	}
	return &Upload{path: path, file: file}, nil
}

// PutEvidence stores a finding's snapshot or clip. created is false when
// the finding already has this very file; a different file replaces it.
func (s *Store) PutEvidence(ctx context.Context, by auth.Principal, id, kind, contentType, sha string, r io.Reader) (File, bool, error) {
	if !MayFile(by.Role) {
		return File{}, false, fmt.Errorf("%w: a %s may not send evidence", ErrForbidden, by.Role)
	}
	if kind != "snapshot" && kind != "clip" {
		return File{}, false, fmt.Errorf("%w: evidence is snapshot or clip, not %q", ErrBadEvidence, kind)
	}
	return s.putEvidence(ctx, by, id, kind, 0, kind, contentType, sha, r)
}

// PutRecheck stores the snapshot a duty officer re-checked a finding on
// (kind wire.EvidenceRecheck), or the clip around it
// (wire.EvidenceRecheckClip), as the evidence of their verify or reopen of
// action id actionID (any officer's who may file: the re-check of a
// finding another officer flagged is theirs to document). It is named
// recheck-CURSOR or recheck_clip-CURSOR after that action's event; created
// is false when the re-check has this very file.
func (s *Store) PutRecheck(ctx context.Context, by auth.Principal, id, kind, actionID, contentType, sha string, r io.Reader) (File, bool, error) {
	if !MayFile(by.Role) {
		return File{}, false, fmt.Errorf("%w: a %s may not send evidence", ErrForbidden, by.Role)
	}
	if kind != wire.EvidenceRecheck && kind != wire.EvidenceRecheckClip {
		return File{}, false, fmt.Errorf("%w: a re-check's evidence is recheck or recheck_clip, not %q", ErrBadEvidence, kind)
	}
	if actionID == "" {
		return File{}, false, fmt.Errorf("%w: action_id: required: the verify or reopen the re-check documents", ErrInvalid)
	}
	var event int64
	var action string
	err := s.db.QueryRowContext(ctx, `SELECT e.id, e.action FROM finding_actions a JOIN finding_events e ON e.id = a.event_id
		WHERE a.action_id = ? AND a.finding_id = ?`, actionID, id).Scan(&event, &action)
	if errors.Is(err, sql.ErrNoRows) {
		return File{}, false, fmt.Errorf("%w: action_id: finding %s has no action %s", ErrInvalid, id, actionID)
	}
	if err != nil {
		return File{}, false, fmt.Errorf("reading action %s of finding %s: %w", actionID, id, err)
	}
	if action != string(ActVerify) && action != string(ActReopen) {
		return File{}, false, fmt.Errorf("%w: action_id: action %s of finding %s is %s, not a re-check's verify or reopen", ErrInvalid, actionID, id, action)
	}
	name := wire.RecheckName(event)
	if kind == wire.EvidenceRecheckClip {
		name = wire.RecheckClipName(event)
	}
	return s.putEvidence(ctx, by, id, kind, event, name, contentType, sha, r)
}

// putEvidence keeps a file of kind at position, named name in the
// finding's evidence.
func (s *Store) putEvidence(ctx context.Context, by auth.Principal, id, kind string, position int64, name, contentType, sha string, r io.Reader) (File, bool, error) {
	if len(sha) != 64 {
		return File{}, false, fmt.Errorf("%w: X-Content-SHA256 must be the body's SHA-256 in 64 hex digits", ErrDigest)
	}
	if _, err := s.Get(ctx, by, id); err != nil {
		return File{}, false, err
	}
	k := evidenceKinds[kind]
	if !slices.Contains(k.types, contentType) {
		return File{}, false, fmt.Errorf("%w: a %s is %s, not %q", ErrContentType, kind, k.types[0], contentType)
	}
	head := make([]byte, 12)
	n, _ := io.ReadFull(r, head)
	if err := sniff(kind, contentType, head[:n]); err != nil {
		return File{}, false, err
	}
	file, err := s.save(contentType, io.MultiReader(bytes.NewReader(head[:n]), r), k.max, sha)
	if err != nil {
		return File{}, false, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return File{}, false, fmt.Errorf("adding %s to finding %s: %w", kind, id, err)
	}
	defer tx.Rollback()
	var prev string
	err = tx.QueryRowContext(ctx, `SELECT sha256 FROM finding_evidence WHERE finding_id = ? AND kind = ? AND position = ?`, id, kind, position).Scan(&prev)
	if err == nil && prev == file.SHA256 {
		f, err := s.get(ctx, id)
		if err != nil {
			return File{}, false, err
		}
		return *evidenceOf(f, name), false, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return File{}, false, fmt.Errorf("adding %s to finding %s: %w", kind, id, err)
	}
	at := formatTime(s.now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO finding_evidence (finding_id, kind, position, sha256, bytes, content_type, added_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (finding_id, kind, position) DO UPDATE SET sha256 = excluded.sha256,
		bytes = excluded.bytes, content_type = excluded.content_type, added_at = excluded.added_at`,
		id, kind, position, file.SHA256, file.Bytes, contentType, at); err != nil {
		return File{}, false, fmt.Errorf("adding %s to finding %s: %w", kind, id, err)
	}
	detail := map[string]any{"kind": kind, "sha256": file.SHA256, "bytes": file.Bytes}
	if kind == wire.EvidenceRecheck || kind == wire.EvidenceRecheckClip {
		detail["name"], detail["event"] = name, position
	}
	if _, err := addEvent(ctx, tx, id, at, by, "evidence", detail); err != nil {
		return File{}, false, err
	}
	if err := tx.Commit(); err != nil {
		return File{}, false, fmt.Errorf("adding %s to finding %s: %w", kind, id, err)
	}
	s.announce()
	f, err := s.get(ctx, id)
	if err != nil {
		return File{}, false, err
	}
	return *evidenceOf(f, name), true, nil
}

func evidenceOf(f Finding, name string) *File {
	switch name {
	case "snapshot":
		return f.Evidence.Snapshot
	case "clip":
		return f.Evidence.Clip
	}
	for i := range f.Evidence.Photos {
		if f.Evidence.Photos[i].Name == name {
			return &f.Evidence.Photos[i]
		}
	}
	for i := range f.Evidence.Rechecks {
		if f.Evidence.Rechecks[i].Name == name {
			return &f.Evidence.Rechecks[i]
		}
	}
	for i := range f.Evidence.RecheckClips {
		if f.Evidence.RecheckClips[i].Name == name {
			return &f.Evidence.RecheckClips[i]
		}
	}
	return nil
}

// Open opens an evidence file (snapshot, clip, photo-N) of a finding by may see.
func (s *Store) Open(ctx context.Context, by auth.Principal, id, name string) (*os.File, File, error) {
	f, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, File{}, err
	}
	file := evidenceOf(f, name)
	if file == nil {
		return nil, File{}, fmt.Errorf("%w: finding %s has no %s", ErrBadEvidence, id, name)
	}
	fh, err := os.Open(filepath.Join(s.dir, file.SHA256))
	if err != nil {
		return nil, File{}, fmt.Errorf("opening %s of finding %s: %w", name, id, err)
	}
	return fh, *file, nil
}
