// Package findings keeps the findings consoles forward to the relay: their
// state machine, who may move them, their history (every change an event
// with a cursor consumers follow) and their evidence files. Plain Go over
// the relay's SQLite, where it owns the tables findings, finding_events,
// finding_actions and finding_evidence (relay/store's migrations 0004 and
// 0006); relay/api and relay/sitepage are its adapters.
package findings

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Status is where a finding stands (relay/wire).
type Status = wire.Status

// The statuses (docs/PROTOCOLS.md, round 4).
const (
	StatusOpen         = wire.StatusOpen
	StatusAcknowledged = wire.StatusAcknowledged
	StatusRectified    = wire.StatusRectified
	StatusVerified     = wire.StatusVerified
	StatusReopened     = wire.StatusReopened
	StatusWithdrawn    = wire.StatusWithdrawn
)

// rank orders lists: what the site must act on first, then what awaits
// verification, then what is closed.
func rank(s Status) int {
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

// Action is a change asked of a finding (relay/wire).
type Action = wire.Action

// The actions.
const (
	ActEdit        = wire.ActEdit
	ActWithdraw    = wire.ActWithdraw
	ActVerify      = wire.ActVerify
	ActReopen      = wire.ActReopen
	ActAcknowledge = wire.ActAcknowledge
	ActRectify     = wire.ActRectify
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
	for lang, v := range d.DeviationTitle {
		if !bilingual.Known(lang) {
			return fmt.Errorf("%w: deviation_title: %q is not one of %s", ErrInvalid, lang, strings.Join(bilingual.Languages, ", "))
		}
		if len(v) > maxText {
			return fmt.Errorf("%w: deviation_title's %s is over %d bytes", ErrInvalid, lang, maxText)
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

// Title is what the finding is called in lang: the catalogue's words for
// its deviation when the console sent them, else the text as the officer
// typed or chose it (free text, or a console that predates the titles).
func Title(f Draft, lang string) string {
	if t := bilingual.Text(f.DeviationTitle).In(lang); strings.TrimSpace(t) != "" {
		return t
	}
	return f.DeviationText
}

// encodeTitle is the deviation_title column, empty for none.
func encodeTitle(t map[string]string) string {
	if len(t) == 0 {
		return ""
	}
	b, _ := json.Marshal(t) // a map of strings: cannot fail
	return string(b)
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

// The finding as the relay reports it, its evidence and history, and the
// action request are the API's bodies (relay/wire).
type (
	Finding  = wire.Finding
	Evidence = wire.Evidence
	File     = wire.File
	Event    = wire.Event
	Change   = wire.Change
	Request  = wire.ActionRequest
	Photo    = wire.Photo
)

// MaxPhotoBytes bounds each rectification photo; MaxSnapshotBytes and
// MaxClipBytes the console's evidence.
const (
	MaxPhotoBytes    = 5 << 20
	MaxSnapshotBytes = 2 << 20
	MaxClipBytes     = 64 << 20
	MaxPhotos        = 10
)
