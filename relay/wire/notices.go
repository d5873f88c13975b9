package wire

import (
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// A notice's statuses: open while any item's finding is not closed.
const (
	NoticeOpen   = "open"
	NoticeClosed = "closed"
)

// NoticeRequest is the body of POST /api/v1/notices: a 监督意见书 to site
// over its findings (every one of that site, not closed, in no notice
// yet), in Lang (zh-CN, the default, or en). No findings: every finding
// of the site that may go in one.
type NoticeRequest struct {
	Site     string   `json:"site"`
	Findings []string `json:"findings"`
	Lang     string   `json:"lang,omitempty"`
}

// NoticeItem is one finding of a notice, where it stands now. Reported:
// the site has reported it rectified (it is rectified or verified);
// Verified: the duty officer verified it.
type NoticeItem struct {
	Position    int            `json:"position"`
	Finding     string         `json:"finding"`
	Deviation   bilingual.Text `json:"deviation"`
	Requirement bilingual.Text `json:"requirement"`
	Deadline    time.Time      `json:"deadline"`
	Status      Status         `json:"status"`
	Reported    bool           `json:"reported"`
	Verified    bool           `json:"verified"`
	// Severity and Snapshot (the evidence's URL, "" for none) are the
	// finding's, for a view that shows the items.
	Severity string `json:"severity"`
	Snapshot string `json:"snapshot,omitempty"`
}

// Notice is a 监督意见书 (GET /api/v1/notices/{id}; a list of them answers
// GET /api/v1/notices): a site's findings compiled into one numbered
// document, e.g. "千监意〔2026〕0001号" (en "QLY-N-2026-0001"), numbered per
// year in the order issued. It is closed when every item's finding is
// closed (verified, or withdrawn by the officers), ClosedAt then when.
type Notice struct {
	ID       string         `json:"id"`
	Number   string         `json:"number"`
	Year     int            `json:"year"`
	Seq      int            `json:"seq"`
	Site     string         `json:"site"`
	SiteName bilingual.Text `json:"site_name"`
	District bilingual.Text `json:"district"`
	IssuedBy string         `json:"issued_by"`
	IssuedAt time.Time      `json:"issued_at"`
	Lang     string         `json:"lang"`
	Status   string         `json:"status"`
	ClosedAt *time.Time     `json:"closed_at,omitempty"`
	Items    []NoticeItem   `json:"items"`
	Total    int            `json:"total"`
	Reported int            `json:"reported"`
	Verified int            `json:"verified"`
}
