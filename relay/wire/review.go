package wire

import (
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// The enforcement outcomes a supervisor records against a finding (POST
// /api/v1/review/findings/{id}/outcomes).
const (
	OutcomeNoticeIssued = "notice_issued" // 监督意见书 issued
	OutcomeRectifyOrder = "rectify_order" // 责令整改
	OutcomeSuspendOrder = "suspend_order" // 责令停业整顿
	OutcomeCaseFiled    = "case_filed"    // 立案
)

// The finding_events actions of the review: a finding's history shows them;
// the site page and the consoles' changes feed pass them by.
const (
	EventReviewed   = "reviewed"
	EventUnreviewed = "unreviewed"
	EventCommented  = "commented"
	EventOutcome    = "outcome"
)

// IsReviewEvent reports whether a finding_events action is the review's:
// the supervisors' business, which a site manager never sees.
func IsReviewEvent(action string) bool {
	return action == EventReviewed || action == EventUnreviewed || action == EventCommented || action == EventOutcome
}

// Outcome is an enforcement outcome recorded against a finding. By and At
// are the relay's: a request leaves them out.
type Outcome struct {
	Kind      string    `json:"kind"`
	DocNumber string    `json:"doc_number"`
	Note      string    `json:"note"`
	By        string    `json:"by,omitempty"`
	At        time.Time `json:"at,omitzero"`
}

// ReviewMark is whether a supervisor has reviewed a finding, and how many
// comments it has.
type ReviewMark struct {
	Reviewed   bool       `json:"reviewed"`
	ReviewedBy string     `json:"reviewed_by,omitempty"`
	ReviewedAt *time.Time `json:"reviewed_at,omitempty"`
	Comments   int        `json:"comments"`
}

// ReviewItem is a finding in the review list (GET /api/v1/review/findings):
// the finding without its events, where it is, and what the supervisors
// made of it.
type ReviewItem struct {
	Finding
	SiteName bilingual.Text `json:"site_name"`
	District bilingual.Text `json:"district"`
	SiteType string         `json:"site_type"`
	Review   ReviewMark     `json:"review"`
	Outcomes []Outcome      `json:"outcomes"`
	// Repeat: the site had a finding of the same deviation within 30 days
	// before or after this one.
	Repeat bool `json:"repeat"`
	// RunID is the checklist run the finding came from, "" for none.
	RunID string `json:"run_id"`
}

// ReviewPage answers GET /api/v1/review/findings: a page of the list, the
// count of the whole list, and the cursor of the next page ("" at the end).
type ReviewPage struct {
	Items []ReviewItem `json:"items"`
	Total int          `json:"total"`
	Next  string       `json:"next"`
}

// ReviewComment is a supervisor's comment on a finding.
type ReviewComment struct {
	ID   int64     `json:"id"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// ReviewDetail answers GET /api/v1/review/findings/{id} and the review's
// writes: the item with its whole history (Finding.Events, review events
// included), its evidence, comments and the checklist run it came from.
type ReviewDetail struct {
	ReviewItem
	Comments []ReviewComment `json:"comments"`
	Run      *Run            `json:"run,omitempty"`
}

// ReviewedRequest is the body of PUT /api/v1/review/findings/{id}/reviewed.
type ReviewedRequest struct {
	Reviewed bool `json:"reviewed"`
}

// CommentRequest is the body of POST /api/v1/review/findings/{id}/comments.
type CommentRequest struct {
	Text string `json:"text"`
}

// OutcomeRequest is the body of POST /api/v1/review/findings/{id}/outcomes.
type OutcomeRequest struct {
	Kind      string `json:"kind"`
	DocNumber string `json:"doc_number"`
	Note      string `json:"note"`
}

// ReviewFacets answers GET /api/v1/review/facets: the values the filters
// offer.
type ReviewFacets struct {
	Districts  []FacetDistrict  `json:"districts"`
	Sites      []FacetSite      `json:"sites"`
	SiteTypes  []string         `json:"site_types"`
	Templates  []FacetTemplate  `json:"templates"`
	Deviations []FacetDeviation `json:"deviations"`
	Officers   []string         `json:"officers"`
	Severities []string         `json:"severities"`
	Statuses   []string         `json:"statuses"`
	Outcomes   []string         `json:"outcomes"`
}

// FacetDistrict is a district; Key (its zh-CN name) is what the filter takes.
type FacetDistrict struct {
	Key  string         `json:"key"`
	Name bilingual.Text `json:"name"`
}

// FacetSite is a site with its district's key and its type.
type FacetSite struct {
	ID       string         `json:"id"`
	Name     bilingual.Text `json:"name"`
	District string         `json:"district"`
	SiteType string         `json:"site_type"`
}

// FacetTemplate is a checklist template (an activity) findings came from.
type FacetTemplate struct {
	ID    string         `json:"id"`
	Title bilingual.Text `json:"title"`
}

// FacetDeviation is a deviation of a template's catalogue.
type FacetDeviation struct {
	Template string         `json:"template"`
	ID       string         `json:"id"`
	Title    bilingual.Text `json:"title"`
}
