package wire

import (
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// Report periods (GET /api/v1/reports/{period}).
const (
	PeriodDaily   = "daily"
	PeriodShift   = "shift"
	PeriodWeekly  = "weekly"
	PeriodMonthly = "monthly"
)

// Report is a period's figures in the layout the institute reports upwards
// (GET /api/v1/reports/{period}?format=json). Every count of findings is
// the review list's total for the filter in its Drill (the query string of
// GET /api/v1/review/findings), so a figure and the list it opens agree.
type Report struct {
	Period string `json:"period"` // daily, shift, weekly, monthly
	// Label names the period ("2026-12-02", "2026-W49", "2026-12",
	// "2026-12-02 白班"); From and To bound it, [From, To).
	Label    string         `json:"label"`
	Shift    *Shift         `json:"shift,omitempty"`
	From     time.Time      `json:"from"`
	To       time.Time      `json:"to"`
	TimeZone string         `json:"time_zone"`
	Lang     string         `json:"lang"`
	Made     time.Time      `json:"made_at"`
	Figures  ReportFigures  `json:"figures"`
	Problems []ReportGroup  `json:"problems"` // by template (activity), largest first
	Sites    []ReportSite   `json:"sites"`    // per site with anything in the period
	Checks   []ReportChecks `json:"checks"`   // per activity, from the checklist runs
	Coverage []ReportShift  `json:"coverage"` // per shift in the period
}

// ReportFigures are the period's headline figures.
type ReportFigures struct {
	// SitesSupervised: sites with a check ended or a finding observed in
	// the period.
	SitesSupervised int `json:"sites_supervised"`
	// Checks (户次): checklist runs ended in the period.
	Checks int `json:"checks"`
	// Findings (problems found): findings observed in the period.
	Findings int `json:"findings"`
	// OrderedToRectify (责令整改): those not withdrawn, each given the site
	// with a deadline to put it right.
	OrderedToRectify int `json:"ordered_to_rectify"`
	// Rectified: those the site reported fixed (rectified or verified now).
	Rectified int `json:"rectified"`
	// Verified: those the duty room verified on video.
	Verified int `json:"verified"`
	// Overdue: those open past their deadline at the report's making.
	Overdue int `json:"overdue"`
	// NoticesIssued: findings of the period with a 监督意见书 issued on them.
	NoticesIssued int `json:"notices_issued"`
	// Coverage: sites whose watch policy was met, over sites evaluated,
	// summed over the period's shifts.
	CoverageSitesMet int `json:"coverage_sites_met"`
	CoverageSites    int `json:"coverage_sites"`
	// Drill holds each figure's review-list filter, by the figure's JSON
	// name (findings, ordered_to_rectify, rectified, verified, overdue,
	// notices_issued).
	Drill map[string]string `json:"drill"`
}

// ReportGroup is the findings of one template (activity; "-" free text)
// and their deviations.
type ReportGroup struct {
	Key        string         `json:"key"`
	Label      bilingual.Text `json:"label"`
	Count      int            `json:"count"`
	Drill      string         `json:"drill"`
	Deviations []ReportGroup  `json:"deviations,omitempty"`
}

// ReportSite is one site's figures in the period.
type ReportSite struct {
	Site             string         `json:"site"`
	Name             bilingual.Text `json:"name"`
	District         bilingual.Text `json:"district"`
	Checks           int            `json:"checks"`
	Findings         int            `json:"findings"`
	OrderedToRectify int            `json:"ordered_to_rectify"`
	Rectified        int            `json:"rectified"`
	Verified         int            `json:"verified"`
	Overdue          int            `json:"overdue"`
	Drill            string         `json:"drill"`
}

// ReportChecks is one activity's checks (户次) in the period.
type ReportChecks struct {
	Activity       string   `json:"activity"`
	Checks         int      `json:"checks"`
	StepsObserved  int      `json:"steps_observed"`
	StepsCorrect   int      `json:"steps_correct"`
	ComplianceRate *float64 `json:"compliance_rate"`
}

// ReportShift is one shift's watch coverage.
type ReportShift struct {
	Shift          Shift `json:"shift"`
	Sites          int   `json:"sites"`     // sites a policy was evaluated for
	SitesMet       int   `json:"sites_met"` // of them, met
	MinutesWatched int64 `json:"minutes_watched"`
}

// AuditExport is one document that left the relay
// (GET /api/v1/audit/exports).
type AuditExport struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Role   string    `json:"role"`
	What   string    `json:"what"` // report, notice, notice_pdf, review_export
	Format string    `json:"format"`
	Filter string    `json:"filter"`
	Detail string    `json:"detail"`
}

// AuditExports answers GET /api/v1/audit/exports, newest first.
type AuditExports struct {
	Exports []AuditExport `json:"exports"`
}
