package wire

import (
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// Watch modes: a camera in a tile of the wall, or the one focused.
const (
	ModeTile  = "tile"
	ModeFocus = "focus"
)

// WatchInterval is a span of time a camera was visible on an officer's
// screen, by the console's clock. ID is the console's, making a resend
// change nothing.
type WatchInterval struct {
	ID     string    `json:"id"`
	Site   string    `json:"site"`
	Camera string    `json:"camera"`
	Mode   string    `json:"mode"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

// WatchBatch is what a console posts (POST /api/v1/coverage/intervals):
// its own id, its clock's now when it sent the batch (from which the relay
// measures its skew), and the intervals, of the signed-in officer.
type WatchBatch struct {
	Console   string          `json:"console"`
	Now       time.Time       `json:"now"`
	Intervals []WatchInterval `json:"intervals"`
}

// WatchBatchResult answers a batch: how many intervals were new, how many
// the relay had already, and the correction applied to the console's times
// (the relay's clock minus the console's, in milliseconds).
type WatchBatchResult struct {
	Accepted   int   `json:"accepted"`
	Duplicates int   `json:"duplicates"`
	SkewMillis int64 `json:"skew_ms"`
}

// ZonePolicy is what the coverage policy asks of a zone (0: nothing).
type ZonePolicy struct {
	MaxGapSeconds      int64 `json:"max_gap_seconds"`
	MinPerShiftSeconds int64 `json:"min_per_shift_seconds"`
	OncePerShift       bool  `json:"once_per_shift"`
}

// Coverage is how a period was watched (GET /api/v1/coverage): per site,
// zone and camera. At is the instant "since last watched" is measured at.
type Coverage struct {
	From  time.Time      `json:"from"`
	To    time.Time      `json:"to"`
	At    time.Time      `json:"at"`
	Shift *Shift         `json:"shift,omitempty"` // the shift the period lies in, if one
	Sites []SiteCoverage `json:"sites"`
}

// SiteCoverage is one site's coverage. WatchedSeconds add up its cameras'
// (two cameras on screen for a minute are two minutes). PolicyMet is nil
// when no policy applies or the period is longer than a shift.
type SiteCoverage struct {
	Site           string           `json:"site"`
	WatchedSeconds int64            `json:"watched_seconds"`
	LastWatched    *time.Time       `json:"last_watched"`
	PolicyMet      *bool            `json:"policy_met"`
	Unwatched      bool             `json:"unwatched"` // a zone past its max_gap at At
	Zones          []ZoneCoverage   `json:"zones"`
	Cameras        []CameraCoverage `json:"cameras"`
	Moments        []Moment         `json:"moments"`
}

// ZoneCoverage is one zone of a site. SeenSeconds is the time any of its
// cameras was on someone's screen (their union), what min_per_shift asks;
// LongestGapSeconds the longest time in the period none was. Both, and
// Met, only for a period within one shift.
type ZoneCoverage struct {
	Zone              string      `json:"zone"`
	WatchedSeconds    int64       `json:"watched_seconds"`
	LastWatched       *time.Time  `json:"last_watched"`
	SinceSeconds      *int64      `json:"since_seconds"` // At minus LastWatched
	Policy            *ZonePolicy `json:"policy"`
	SeenSeconds       *int64      `json:"seen_seconds,omitempty"`
	LongestGapSeconds *int64      `json:"longest_gap_seconds,omitempty"`
	Met               *bool       `json:"met"`
	Unwatched         bool        `json:"unwatched"` // not seen for max_gap or more at At
}

// CameraCoverage is one camera's coverage.
type CameraCoverage struct {
	Camera         string     `json:"camera"`
	Zone           string     `json:"zone"`
	WatchedSeconds int64      `json:"watched_seconds"`
	LastWatched    *time.Time `json:"last_watched"`
}

// Key moments' states at an instant.
const (
	MomentUpcoming = "upcoming" // not yet begun
	MomentDue      = "due"      // begun, window open, not yet watched
	MomentWatched  = "watched"  // a camera of its zones was on screen in its window
	MomentMissed   = "missed"   // its window passed unwatched
)

// Moment is a key moment at one site: when, for how long, the cameras
// that show it, and its state.
type Moment struct {
	ID            string         `json:"id"`
	Name          bilingual.Text `json:"name"`
	Site          string         `json:"site"`
	Zones         []string       `json:"zones"`
	Cameras       []string       `json:"cameras"`
	At            time.Time      `json:"at"`
	WindowSeconds int64          `json:"window_seconds"`
	State         string         `json:"state"`
}

// Moments answers GET /api/v1/coverage/moments.
type Moments struct {
	Now     time.Time `json:"now"`
	Moments []Moment  `json:"moments"`
}

// UnwatchedZone is a site's zone not seen for its policy's max_gap or
// more (GET /api/v1/coverage/unwatched).
type UnwatchedZone struct {
	Site          string     `json:"site"`
	Zone          string     `json:"zone"`
	LastWatched   *time.Time `json:"last_watched"`
	SinceSeconds  *int64     `json:"since_seconds"`
	MaxGapSeconds int64      `json:"max_gap_seconds"`
}

// Unwatched answers GET /api/v1/coverage/unwatched.
type Unwatched struct {
	At    time.Time       `json:"at"`
	Zones []UnwatchedZone `json:"zones"`
}

// Watch is one interval of the audit trail (GET /api/v1/coverage/watches):
// who had which camera on screen when, by the relay's clock.
type Watch struct {
	ID      string    `json:"id"`
	Officer string    `json:"officer"`
	Console string    `json:"console"`
	Site    string    `json:"site"`
	Camera  string    `json:"camera"`
	Zone    string    `json:"zone"`
	Mode    string    `json:"mode"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// Watches answers the audit query.
type Watches struct {
	Watches []Watch `json:"watches"`
}
