// Package findings keeps the findings consoles forward to the relay: their
// state machine, who may move them, their history (every change an event
// with a cursor consumers follow) and their evidence files. Plain Go over
// the relay's SQLite; relay/api and relay/sitepage are its adapters.
package findings

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// Status is where a finding stands.
type Status string

// The statuses (docs/PROTOCOLS.md, round 4).
const (
	StatusOpen         Status = "open"
	StatusAcknowledged Status = "acknowledged"
	StatusRectified    Status = "rectified"
	StatusVerified     Status = "verified"
	StatusReopened     Status = "reopened"
	StatusWithdrawn    Status = "withdrawn"
)

// Closed reports whether nothing more is expected of the site.
func (s Status) Closed() bool { return s == StatusVerified || s == StatusWithdrawn }

// rank orders lists: what the site must act on first, then what awaits
// verification, then what is closed.
func (s Status) rank() int {
	switch s {
	case StatusOpen, StatusReopened:
		return 0
	case StatusAcknowledged:
		return 1
	case StatusRectified:
		return 2
	}
	return 3
}

// ParseStatus checks a status name.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusOpen, StatusAcknowledged, StatusRectified, StatusVerified, StatusReopened, StatusWithdrawn:
		return st, nil
	}
	return "", fmt.Errorf("%w: status %q is not one of open, acknowledged, rectified, verified, reopened, withdrawn", ErrInvalid, s)
}

// Action is a change asked of a finding.
type Action string

// The actions.
const (
	ActEdit        Action = "edit"
	ActWithdraw    Action = "withdraw"
	ActVerify      Action = "verify"
	ActReopen      Action = "reopen"
	ActAcknowledge Action = "acknowledge"
	ActRectify     Action = "rectify"
)

// Severities a finding may have.
var Severities = []string{"critical", "major", "minor"}

func validSeverity(s string) bool {
	for _, v := range Severities {
		if s == v {
			return true
		}
	}
	return false
}

// Errors the adapters map to answers.
var (
	ErrNotFound    = errors.New("no such finding")    // 404, also for another site's
	ErrUnknownSite = errors.New("unknown site")       // 404 unknown_site
	ErrConflict    = errors.New("conflict")           // 409: same id, different content
	ErrForbidden   = errors.New("forbidden")          // 403: the role may not
	ErrInvalid     = errors.New("invalid")            // 422: a field's value
	ErrTooLarge    = errors.New("evidence too large") // 413
	ErrContentType = errors.New("wrong content type") // 415
	ErrDigest      = errors.New("digest mismatch")    // 400
	ErrBadEvidence = errors.New("no such evidence")   // 404
)

// TransitionError is an action the finding's status does not allow.
type TransitionError struct {
	Action Action
	From   Status
	To     Status
}

func (e *TransitionError) Error() string {
	if e.Action == ActEdit {
		return fmt.Sprintf("cannot edit a finding that is %s: edits apply only while it is open", e.From)
	}
	return fmt.Sprintf("cannot %s a finding that is %s (to %s)", e.Action, e.From, e.To)
}

// Draft is a finding as the console sends it (relay/wire).
type Draft = wire.Draft

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)

// CheckID checks a finding id (the console's, a UUID in practice).
func CheckID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%w: finding id %q: want letters, digits, '-', '_', '.', ':' (up to 128)", ErrInvalid, id)
	}
	return nil
}

// maxText bounds free-text fields.
const maxText = 4000

func validate(d *Draft) error {
	if err := CheckID(d.ID); err != nil {
		return err
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"site", d.Site}, {"camera", d.Camera}, {"deviation_text", d.DeviationText}, {"observer", d.Observer},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s missing", ErrInvalid, strings.Join(missing, ", "))
	}
	if !validSeverity(d.Severity) {
		return fmt.Errorf("%w: severity %q is not one of critical, major, minor", ErrInvalid, d.Severity)
	}
	var zero []string
	for _, f := range []struct {
		name string
		v    time.Time
	}{{"observed_at", d.ObservedAt}, {"flagged_at", d.FlaggedAt}, {"deadline", d.Deadline}} {
		if f.v.IsZero() {
			zero = append(zero, f.name)
		}
	}
	if len(zero) > 0 {
		return fmt.Errorf("%w: %s missing", ErrInvalid, strings.Join(zero, ", "))
	}
	if d.Deadline.Before(d.ObservedAt) {
		return fmt.Errorf("%w: deadline %s is before observed_at %s", ErrInvalid, d.Deadline.Format(time.RFC3339), d.ObservedAt.Format(time.RFC3339))
	}
	if d.TemplateVersion < 0 {
		return fmt.Errorf("%w: template_version %d is negative", ErrInvalid, d.TemplateVersion)
	}
	for _, f := range []struct{ name, v string }{{"note", d.Note}, {"deviation_text", d.DeviationText}} {
		if len(f.v) > maxText {
			return fmt.Errorf("%w: %s is over %d bytes", ErrInvalid, f.name, maxText)
		}
	}
	for _, f := range []struct{ name, v string }{
		{"site", d.Site}, {"camera", d.Camera}, {"zone", d.Zone}, {"template_id", d.TemplateID},
		{"step", d.Step}, {"deviation", d.Deviation}, {"observer", d.Observer},
	} {
		if len(f.v) > 200 {
			return fmt.Errorf("%w: %s is over 200 bytes", ErrInvalid, f.name)
		}
	}
	return nil
}

// canonical is the draft's content as compared on a repeated create:
// times in UTC to the millisecond, as stored.
func canonical(d Draft) string {
	d.ObservedAt = d.ObservedAt.UTC().Truncate(time.Millisecond)
	d.FlaggedAt = d.FlaggedAt.UTC().Truncate(time.Millisecond)
	d.Deadline = d.Deadline.UTC().Truncate(time.Millisecond)
	b, _ := json.Marshal(d) // plain fields: cannot fail
	return string(b)
}

// Finding is a finding as the relay has it.
type Finding struct {
	Draft
	Status    Status    `json:"status"`
	Overdue   bool      `json:"overdue"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Evidence  Evidence  `json:"evidence"`
	Events    []Event   `json:"events,omitempty"`
}

// Evidence lists a finding's files.
type Evidence struct {
	Snapshot *File  `json:"snapshot,omitempty"`
	Clip     *File  `json:"clip,omitempty"`
	Photos   []File `json:"photos"`
}

// File is one evidence file. Name is how the evidence URL names it:
// snapshot, clip, or photo-N (N from 1, in the order reported).
type File struct {
	Name        string    `json:"name"`
	SHA256      string    `json:"sha256"`
	Bytes       int64     `json:"bytes"`
	ContentType string    `json:"content_type"`
	URL         string    `json:"url"`
	AddedAt     time.Time `json:"added_at"`
}

// Event is one change of a finding.
type Event struct {
	Cursor int64           `json:"cursor"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Role   string          `json:"role"`
	Action string          `json:"action"`
	Detail json.RawMessage `json:"detail"`
}

// Change is an event with the finding as it is now.
type Change struct {
	Cursor  int64   `json:"cursor"`
	Finding Finding `json:"finding"`
	Event   Event   `json:"event"`
}

// Request is an action asked of a finding.
type Request struct {
	// ActionID makes the action idempotent: the same id again changes nothing.
	ActionID string     `json:"action_id"`
	Action   Action     `json:"action"`
	Note     string     `json:"note"`
	Severity *string    `json:"severity,omitempty"`
	Deadline *time.Time `json:"deadline,omitempty"`
	// Photos go with rectify (the site page's form), JPEG or PNG.
	Photos []Photo `json:"-"`
}

// Photo is an image the site manager took of the rectification.
type Photo struct {
	ContentType string
	Data        []byte
}

// MaxPhotoBytes bounds each rectification photo; MaxSnapshotBytes and
// MaxClipBytes the console's evidence.
const (
	MaxPhotoBytes    = 5 << 20
	MaxSnapshotBytes = 2 << 20
	MaxClipBytes     = 64 << 20
	MaxPhotos        = 10
)
