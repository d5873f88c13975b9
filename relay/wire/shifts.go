package wire

import (
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// Shift is one instance of a shift of the duty room's schedule: the day
// shift of 2 December runs from its Start to its End.
type Shift struct {
	ID    string         `json:"id"`
	Name  bilingual.Text `json:"name"`
	Start time.Time      `json:"start"`
	End   time.Time      `json:"end"`
}

// How a duty began.
const (
	DutyBySignIn  = "sign_in"  // the officer signed in
	DutyExplicit  = "explicit" // POST /api/v1/duty/start
	DutyByReceipt = "receipt"  // the officer confirmed a handover
)

// Duty is an officer's time on duty: from signing on until handing over.
type Duty struct {
	User  string    `json:"user"`
	Role  string    `json:"role"`
	Since time.Time `json:"since"`
	By    string    `json:"by"` // DutyBySignIn, DutyExplicit or DutyByReceipt
}

// ShiftNow is the answer to GET /api/v1/shift: the shift at the relay's
// now, the time left in it, and who is on duty.
type ShiftNow struct {
	Now         time.Time `json:"now"`
	Shift       Shift     `json:"shift"`
	Next        Shift     `json:"next"`
	LeftSeconds int64     `json:"left_seconds"`
	OnDuty      []Duty    `json:"on_duty"`
	// You is the caller's own duty; absent when they are not on duty.
	You *Duty `json:"you,omitempty"`
}

// The keys of a handover checklist's items, the things the relay suggests
// an outgoing officer pass on.
const (
	ItemFlagged      = "flagged_open"     // findings flagged in the shift and not closed
	ItemRecheck      = "awaiting_recheck" // rectified by their site, awaiting 回头看
	ItemOverdue      = "overdue"          // past their deadline
	ItemCamerasDown  = "cameras_down"     // offline or stalled now, or for a while in the shift
	ItemUnderwatched = "underwatched"     // sites whose zones the shift watched less than policy asks
)

// ChecklistItem is one thing to pass on: what (Key), how many, which
// (finding ids, "site/camera", or site ids), and whether the officer ticked
// it as passed on.
type ChecklistItem struct {
	Key     string   `json:"key"`
	Count   int      `json:"count"`
	Refs    []string `json:"refs"`
	Checked bool     `json:"checked"`
}

// HandoverDraft is the answer to GET /api/v1/handover/draft: the shift the
// caller would hand over now and the checklist the relay suggests.
type HandoverDraft struct {
	Shift     Shift           `json:"shift"`
	Checklist []ChecklistItem `json:"checklist"`
}

// ChecklistMark is an item the outgoing officer ticked (or not).
type ChecklistMark struct {
	Key     string `json:"key"`
	Checked bool   `json:"checked"`
}

// HandoverRequest ends the caller's duty with a note (POST
// /api/v1/handover). ID makes it idempotent: the console's, like a
// finding's.
type HandoverRequest struct {
	ID        string          `json:"id"`
	Note      string          `json:"note"`
	Checklist []ChecklistMark `json:"checklist"`
}

// Receipt is an incoming officer's confirmation that they read a handover.
type Receipt struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Handover is a handover as the relay keeps it: the note and checklist,
// who wrote it when, the duty it ended, the shift's coverage summary as it
// stood then, and who confirmed receipt.
type Handover struct {
	ID        string          `json:"id"`
	Shift     Shift           `json:"shift"`
	By        string          `json:"by"`
	At        time.Time       `json:"at"`
	DutySince time.Time       `json:"duty_since"`
	Note      string          `json:"note"`
	Checklist []ChecklistItem `json:"checklist"`
	Coverage  *Coverage       `json:"coverage,omitempty"`
	Receipts  []Receipt       `json:"receipts"`
}

// CameraDown is a camera that is offline or stalled now, or was for a
// while during the shift: its state now, since when, and how long in the
// shift it was not online.
type CameraDown struct {
	Site        string    `json:"site"`
	Camera      string    `json:"camera"`
	Status      string    `json:"status"` // online, stalled, offline
	Since       time.Time `json:"since"`
	DownSeconds int64     `json:"down_seconds"`
}

// HandoverView is what the incoming officer sees (GET
// /api/v1/handover/current): the previous shift's handovers, the findings
// flagged in it, what awaits re-check and what is overdue now, the cameras
// down, and the sites it watched less than policy asks.
type HandoverView struct {
	Now             time.Time      `json:"now"`
	Shift           *Shift         `json:"shift"` // nil before any handover
	Handovers       []Handover     `json:"handovers"`
	Flagged         []Finding      `json:"flagged"`
	AwaitingRecheck []Finding      `json:"awaiting_recheck"`
	Overdue         []Finding      `json:"overdue"`
	Cameras         []CameraDown   `json:"cameras"`
	Underwatched    []SiteCoverage `json:"underwatched"`
	// Received says whether the caller confirmed every handover shown.
	Received bool `json:"received"`
}
