// Package wire declares the JSON bodies of the relay's HTTP API that its
// clients send and read, once for both sides: relay/api decodes them, the
// console's relayclient encodes them, and a contract test runs the one
// against the other. It holds types only, so a client imports no server
// code. docs/PROTOCOLS.md describes the calls.
package wire

import (
	"encoding/json"
	"time"
)

// Draft is a finding as a console files it (PUT /api/v1/findings/{id}): the
// fields that are the console's to say. The relay keeps status, revision
// and evidence itself.
type Draft struct {
	ID              string `json:"id"`
	Site            string `json:"site"`
	Camera          string `json:"camera"`
	Zone            string `json:"zone"`
	TemplateID      string `json:"template_id"`
	TemplateVersion int    `json:"template_version"`
	Step            string `json:"step"`
	Deviation       string `json:"deviation"`
	DeviationText   string `json:"deviation_text"`
	// DeviationTitle is the catalogue's words for Deviation in each
	// language, by tag ("zh-CN", "en"), so that every reader sees the
	// finding in their own; absent for free text, which stays as typed in
	// DeviationText, and from consoles that predate it.
	DeviationTitle map[string]string `json:"deviation_title,omitempty"`
	Severity       string            `json:"severity"`
	Note           string            `json:"note"`
	Observer       string            `json:"observer"`
	ObservedAt     time.Time         `json:"observed_at"`
	FlaggedAt      time.Time         `json:"flagged_at"`
	Deadline       time.Time         `json:"deadline"`
}

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

// Closed reports whether nothing more is expected of the site. It is a
// method, not a function of the relay's, because the site page's templates
// call it on the findings they show.
func (s Status) Closed() bool { return s == StatusVerified || s == StatusWithdrawn }

// Action names a change asked of a finding.
type Action string

// The actions: the city's officers edit, withdraw, verify and reopen; the
// site acknowledges and rectifies.
const (
	ActEdit        Action = "edit"
	ActWithdraw    Action = "withdraw"
	ActVerify      Action = "verify"
	ActReopen      Action = "reopen"
	ActAcknowledge Action = "acknowledge"
	ActRectify     Action = "rectify"
)

// ActionRequest is an action asked of a finding (POST
// /api/v1/findings/{id}/actions).
type ActionRequest struct {
	// ActionID makes the action idempotent: the same id again changes nothing.
	ActionID string     `json:"action_id"`
	Action   Action     `json:"action"`
	Note     string     `json:"note"`
	Severity *string    `json:"severity,omitempty"`
	Deadline *time.Time `json:"deadline,omitempty"`
	// Photos go with rectify from the site page's form (JPEG or PNG),
	// never in the JSON body: the relay's one request type carries them
	// from the form to its store.
	Photos []Photo `json:"-"`
}

// Photo is an image the site manager took of the rectification.
type Photo struct {
	ContentType string
	Data        []byte
}

// Finding is a finding as the relay reports it (GET /api/v1/findings/{id},
// and the answer to filing it or acting on it).
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
	// Rechecks are the snapshots of the duty officers' re-checks, each
	// named recheck-CURSOR after the verify or reopen it documents.
	Rechecks []File `json:"rechecks,omitempty"`
	// RecheckClips are the clips around those re-checks, each named
	// recheck_clip-CURSOR as its snapshot is recheck-CURSOR.
	RecheckClips []File `json:"recheck_clips,omitempty"`
}

// The evidence a console uploads (PUT /api/v1/findings/{id}/evidence/{kind}),
// with the hex SHA-256 of its content in HeaderContentSHA256.
const (
	EvidenceSnapshot    = "snapshot"
	EvidenceClip        = "clip"
	HeaderContentSHA256 = "X-Content-SHA256"
)

// File is one evidence file, as the relay lists it and answers its upload.
// Name is how the evidence URL names it: snapshot, clip, or photo-N (N from
// 1, in the order reported).
type File struct {
	Name        string    `json:"name"`
	SHA256      string    `json:"sha256"`
	Bytes       int64     `json:"bytes"`
	ContentType string    `json:"content_type"`
	URL         string    `json:"url"`
	AddedAt     time.Time `json:"added_at"`
}

// Event is one change of a finding. Action is an Action or what the relay
// records of its own ("created", "evidence").
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

// Changes is the answer to a poll of the changes feed (GET
// /api/v1/findings/changes?after=CURSOR&wait=SECONDS): the changes after the
// cursor, oldest first, and the cursor to ask after next time.
type Changes struct {
	Cursor  int64    `json:"cursor"`
	Changes []Change `json:"changes"`
}
