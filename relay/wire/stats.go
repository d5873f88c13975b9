package wire

import (
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// The supervisors' statistics (GET /api/v1/stats/...; relay/stats). Every
// count is over the rows of the review list for the same filter, and every
// Drill is the review filter's query string (without "?") that lists
// exactly the rows counted: the view puts it in #/review?<drill>.

// StatsGroup is one bar or slice of a chart.
type StatsGroup struct {
	Key   string         `json:"key"`
	Label bilingual.Text `json:"label"`
	Count int            `json:"count"`
	// Split counts the group's findings by the second grouping (split=),
	// by its keys; absent without split.
	Split map[string]int `json:"split,omitempty"`
	Drill string         `json:"drill"`
}

// FindingStats answers GET /api/v1/stats/findings: Σ Groups' Count =
// Total = the review list's total for the same filter. SplitLabels names
// the split's keys.
type FindingStats struct {
	Total       int                       `json:"total"`
	Group       string                    `json:"group"`
	Split       string                    `json:"split,omitempty"`
	Groups      []StatsGroup              `json:"groups"`
	SplitLabels map[string]bilingual.Text `json:"split_labels,omitempty"`
}

// Rectification is how far a set of findings was put right: Rectified
// are those the site reported rectified that stand so (status rectified or
// verified), Verified those a duty officer verified on camera. Rate is
// Rectified over the findings not withdrawn, null when there are none;
// MedianHoursToRectify is the median from flagging to the first
// rectification reported, of the rectified, null when none is.
type Rectification struct {
	Total                int      `json:"total"`
	Rectified            int      `json:"rectified"`
	Verified             int      `json:"verified"`
	Rate                 *float64 `json:"rate"`
	MedianHoursToRectify *float64 `json:"median_hours_to_rectify"`
}

// RectificationGroup is one group's rectification; Count = Total.
type RectificationGroup struct {
	Key   string         `json:"key"`
	Label bilingual.Text `json:"label"`
	Count int            `json:"count"`
	Rectification
	Drill string `json:"drill"`
}

// RectificationStats answers GET /api/v1/stats/rectification; Groups only
// with group=.
type RectificationStats struct {
	Rectification
	Group  string               `json:"group,omitempty"`
	Groups []RectificationGroup `json:"groups,omitempty"`
}

// The ages of the findings overdue now, by how long past their deadline.
const (
	OverdueUnderDay = "lt1d"  // under a day
	OverdueDays1To3 = "1to3d" // a day to under 3
	OverdueDays3To7 = "3to7d" // 3 days to under 7
	OverdueOverWeek = "gt7d"  // 7 days or more
)

// OverdueBucket is the findings overdue by an age.
type OverdueBucket struct {
	Key   string         `json:"key"`
	Label bilingual.Text `json:"label"`
	Count int            `json:"count"`
	Drill string         `json:"drill"`
}

// OverdueStats answers GET /api/v1/stats/overdue: the filter's findings
// overdue at Now (not closed, deadline passed), by age.
type OverdueStats struct {
	Now     time.Time       `json:"now"`
	Total   int             `json:"total"`
	Buckets []OverdueBucket `json:"buckets"`
}

// RepeatSite is a site's findings repeating a deviation (the same one
// found at the site within Days before or after), as GET
// /api/v1/stats/repeats lists them (a JSON array, most first).
type RepeatSite struct {
	Site     string         `json:"site"`
	Name     bilingual.Text `json:"name"`
	District bilingual.Text `json:"district"`
	Count    int            `json:"count"`
	Days     int            `json:"days"`
	Drill    string         `json:"drill"`
}

// RankedSite is a site ranked by its problems (GET /api/v1/stats/sites, a
// JSON array, highest score first). Score is how relay/stats weighs them
// (docs/PROTOCOLS.md); Following says it is on the follow-up list.
type RankedSite struct {
	Site      string         `json:"site"`
	Name      bilingual.Text `json:"name"`
	District  bilingual.Text `json:"district"`
	SiteType  string         `json:"site_type"`
	Findings  int            `json:"findings"`
	Critical  int            `json:"critical"`
	Major     int            `json:"major"`
	Minor     int            `json:"minor"`
	Overdue   int            `json:"overdue"`
	Repeats   int            `json:"repeats"`
	Score     int            `json:"score"`
	Following bool           `json:"following"`
	Drill     string         `json:"drill"`
}

// ShiftCoverage is one shift's watch coverage (GET /api/v1/stats/coverage,
// a JSON array in time order), from relay/coverage's record: the sites with
// cameras, those whose zone policy the shift met, the camera-minutes
// watched, and the key moments watched and missed. Drill lists the
// findings observed in the shift.
type ShiftCoverage struct {
	Shift             string         `json:"shift"`
	Name              bilingual.Text `json:"name"`
	Start             time.Time      `json:"start"`
	End               time.Time      `json:"end"`
	Sites             int            `json:"sites"`
	SitesMet          int            `json:"sites_met"`
	MinutesWatched    int64          `json:"minutes_watched"`
	KeyMomentsWatched int            `json:"key_moments_watched"`
	KeyMomentsMissed  int            `json:"key_moments_missed"`
	Drill             string         `json:"drill,omitempty"`
}

// Followup is a site on the on-site follow-up list (四不两直 回头看), with
// why and the review filter it was picked from (GET /api/v1/followups, a
// JSON array, latest first).
type Followup struct {
	Site    string         `json:"site"`
	Name    bilingual.Text `json:"name"`
	Reason  string         `json:"reason"`
	AddedBy string         `json:"added_by"`
	AddedAt time.Time      `json:"added_at"`
	Filter  string         `json:"filter"`
}

// FollowupRequest puts a site on the list (PUT /api/v1/followups/{site}).
type FollowupRequest struct {
	Reason string `json:"reason"`
	Filter string `json:"filter"`
}
