package relayclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// Notice statuses.
const (
	NoticeOpen   = "open"
	NoticeClosed = "closed"
)

// NoticeItem is one finding of a notice as the site reports on it.
// Reported: the finding has reached rectified (or beyond).
type NoticeItem struct {
	Position    int            `json:"position"`
	Finding     string         `json:"finding"`
	Deviation   bilingual.Text `json:"deviation"`
	Requirement bilingual.Text `json:"requirement"`
	Deadline    *time.Time     `json:"deadline"`
	Status      string         `json:"status"`
	Reported    bool           `json:"reported"`
	Verified    bool           `json:"verified"`
}

// Notice is a 监督意见书 (relay/notices): a site's findings compiled into one
// numbered document, closed when every item is verified.
type Notice struct {
	ID       string         `json:"id"`
	Number   string         `json:"number"`
	Site     string         `json:"site"`
	SiteName bilingual.Text `json:"site_name"`
	IssuedBy string         `json:"issued_by"`
	IssuedAt time.Time      `json:"issued_at"`
	Lang     string         `json:"lang"`
	Status   string         `json:"status"`
	Items    []NoticeItem   `json:"items"`
	Total    int            `json:"total"`
	Reported int            `json:"reported"`
	Verified int            `json:"verified"`
}

// NoticeRequest issues a notice over findings of one site.
type NoticeRequest struct {
	Site     string   `json:"site"`
	Findings []string `json:"findings"`
	Lang     string   `json:"lang,omitempty"`
}

// NoticesQuery selects notices; empty fields select all.
type NoticesQuery struct {
	Site, Status string
}

func noticePath(id string) string { return "/api/v1/notices/" + url.PathEscape(id) }

// IssueNotice issues a notice (POST /api/v1/notices): numbered by the relay
// in the order issued; findings of another site, closed or already in an
// open notice are refused with the relay's code.
func (c *Client) IssueNotice(ctx context.Context, req NoticeRequest) (Notice, error) {
	var out Notice
	fc, err := jsonCall(http.MethodPost, "/api/v1/notices", req)
	if err == nil {
		_, err = c.findings(ctx, fc, &out)
	}
	if err != nil {
		return Notice{}, fmt.Errorf("issuing a notice to %s over %d findings: %w", req.Site, len(req.Findings), err)
	}
	return out, nil
}

// Notices lists notices (GET /api/v1/notices?site=&status=).
func (c *Client) Notices(ctx context.Context, q NoticesQuery) ([]Notice, error) {
	v := url.Values{}
	if q.Site != "" {
		v.Set("site", q.Site)
	}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	var out []Notice
	if err := c.getJSON(ctx, "/api/v1/notices", v, &out); err != nil {
		return nil, fmt.Errorf("listing notices: %w", err)
	}
	return out, nil
}

// Notice reads one notice with its items' states.
func (c *Client) Notice(ctx context.Context, id string) (Notice, error) {
	var out Notice
	if err := c.getJSON(ctx, noticePath(id), nil, &out); err != nil {
		return Notice{}, fmt.Errorf("reading notice %s: %w", id, err)
	}
	return out, nil
}

// NoticePDF fetches a notice as a PDF in lang ("" the notice's own); the
// relay audits it.
func (c *Client) NoticePDF(ctx context.Context, id, lang string) (Document, error) {
	v := url.Values{}
	if lang != "" {
		v.Set("lang", lang)
	}
	d, err := c.document(ctx, noticePath(id)+"/pdf", v)
	if err != nil {
		return Document{}, fmt.Errorf("fetching notice %s as PDF: %w", id, err)
	}
	return d, nil
}
