package findings

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// listWindow is how far back List looks by default.
const listWindow = 24 * time.Hour

// Query is which findings List returns.
type Query struct {
	// Statuses, when any, are the statuses to list.
	Statuses []string
	// Overdue, when not nil, lists only the overdue findings (true) or only
	// the others (false), at the service's clock.
	Overdue *bool
	// Since, when not zero, is the oldest flag time to list.
	Since time.Time
}

// List returns findings newest first. The default is the last 24 h. A
// status or overdue filter looks at every age instead (unless Since is given
// too): a rectified finding awaits its re-check however old it is.
func (s *Service) List(ctx context.Context, q Query) ([]store.Finding, error) {
	f := store.Filter{Since: q.Since, Overdue: q.Overdue}
	for _, st := range q.Statuses {
		if !store.IsStatus(st) {
			return nil, fault.Field("status", "%q is not a status (open, acknowledged, rectified, verified, reopened, withdrawn)", st)
		}
	}
	f.Statuses = q.Statuses
	if q.Overdue != nil {
		f.Now = s.opts.Now()
	}
	if f.Since.IsZero() && q.Statuses == nil && q.Overdue == nil {
		f.Since = s.opts.Now().Add(-listWindow)
	}
	found, err := s.opts.Store.Query(ctx, f)
	if err != nil {
		return nil, err
	}
	if found == nil {
		found = []store.Finding{}
	}
	return found, nil
}

// Record is a finding with its history, oldest event first.
type Record struct {
	store.Finding
	Events []store.Event `json:"events"`
}

// Get returns a finding with its history.
func (s *Service) Get(ctx context.Context, id string) (Record, error) {
	f, err := s.opts.Store.Get(ctx, id)
	if err != nil {
		return Record{}, err
	}
	events, err := s.opts.Store.Events(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if events == nil {
		events = []store.Event{}
	}
	return Record{f, events}, nil
}

// Edit is a change to a finding the site does not have yet; nil leaves a
// field as it is.
type Edit struct {
	Note     *string `json:"note"`
	Severity *string `json:"severity"`
	Deadline *string `json:"deadline"` // RFC 3339, not in the past
}

// Edit changes a finding in the signed-in officer's name.
func (s *Service) Edit(ctx context.Context, id string, in Edit) (store.Finding, error) {
	actor, err := s.observer(ctx)
	if err != nil {
		return store.Finding{}, err
	}
	var e store.Edit
	e.Note = in.Note
	if in.Severity != nil {
		switch *in.Severity {
		case "critical", "major", "minor":
			e.Severity = in.Severity
		default:
			return store.Finding{}, fault.Field("severity", "%q is not one of critical, major, minor", *in.Severity)
		}
	}
	if in.Deadline != nil {
		d, err := parseDeadline(*in.Deadline, s.opts.Now(), 0)
		if err != nil {
			return store.Finding{}, err
		}
		e.Deadline = &d
	}
	if e.Note == nil && e.Severity == nil && e.Deadline == nil {
		return store.Finding{}, fault.New(fault.Invalid, "bad_request", "nothing to change: give note, severity or deadline")
	}
	return s.opts.Store.Update(ctx, id, actor, e)
}

// Withdraw takes a finding back, saying why.
func (s *Service) Withdraw(ctx context.Context, id, reason string) (store.Finding, error) {
	if strings.TrimSpace(reason) == "" {
		return store.Finding{}, fault.Field("reason", "required: why the finding is taken back")
	}
	actor, err := s.observer(ctx)
	if err != nil {
		return store.Finding{}, err
	}
	f, err := s.opts.Store.Withdraw(ctx, id, actor, reason)
	if errors.Is(err, store.ErrInvalid) {
		// The reason is there: what is refused is the finding's state.
		return store.Finding{}, fault.New(fault.Conflict, "not_withdrawable", "%w", err)
	}
	return f, err
}

// EvidenceFile is an evidence file a finding refers to, open for reading;
// the caller closes File.
type EvidenceFile struct {
	Name    string // named by content hash: it never changes under its name
	SHA256  string // "" if not recorded
	ModTime time.Time
	File    *os.File
}

// Evidence opens a snapshot or clip a finding refers to, and nothing else
// from the evidence folder.
func (s *Service) Evidence(ctx context.Context, name string) (EvidenceFile, error) {
	unknown := func() error { return fault.New(fault.NotFound, "unknown_evidence", "no evidence file %q", name) }
	ev, err := s.opts.Store.EvidenceFile(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		// A re-check's snapshot, or a file the relay lists (shared.go).
		ev, err = s.sharedEvidence(ctx, name)
	}
	if errors.Is(err, store.ErrNotFound) {
		return EvidenceFile{}, unknown()
	}
	if err != nil {
		return EvidenceFile{}, err
	}
	path, err := s.opts.Store.EvidencePath(ev.File)
	if err != nil {
		return EvidenceFile{}, unknown()
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return EvidenceFile{}, fault.New(fault.NotFound, "evidence_missing", "evidence file %q is recorded but not on disk", name)
	}
	if err != nil {
		return EvidenceFile{}, fmt.Errorf("opening evidence file %s: %w", ev.File, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return EvidenceFile{}, fmt.Errorf("reading evidence file %s: %w", ev.File, err)
	}
	return EvidenceFile{Name: ev.File, SHA256: ev.SHA256, ModTime: st.ModTime(), File: f}, nil
}
