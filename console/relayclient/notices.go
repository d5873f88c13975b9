package relayclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// NoticesQuery selects notices; empty fields select all.
type NoticesQuery struct {
	Site, Status string
}

func noticePath(id string) string { return "/api/v1/notices/" + url.PathEscape(id) }

// IssueNotice issues a notice (POST /api/v1/notices): numbered by the relay
// in the order issued; findings of another site, closed or already in an
// open notice are refused with the relay's code.
func (c *Client) IssueNotice(ctx context.Context, req wire.NoticeRequest) (wire.Notice, error) {
	var out wire.Notice
	fc, err := jsonCall(http.MethodPost, "/api/v1/notices", req)
	if err == nil {
		_, err = c.findings(ctx, fc, &out)
	}
	if err != nil {
		return wire.Notice{}, fmt.Errorf("issuing a notice to %s over %d findings: %w", req.Site, len(req.Findings), err)
	}
	return out, nil
}

// Notices lists notices (GET /api/v1/notices?site=&status=).
func (c *Client) Notices(ctx context.Context, q NoticesQuery) ([]wire.Notice, error) {
	v := url.Values{}
	if q.Site != "" {
		v.Set("site", q.Site)
	}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	var out []wire.Notice
	if err := c.getJSON(ctx, "/api/v1/notices", v, &out); err != nil {
		return nil, fmt.Errorf("listing notices: %w", err)
	}
	return out, nil
}

// Notice reads one notice with its items' states.
func (c *Client) Notice(ctx context.Context, id string) (wire.Notice, error) {
	var out wire.Notice
	if err := c.getJSON(ctx, noticePath(id), nil, &out); err != nil {
		return wire.Notice{}, fmt.Errorf("reading notice %s: %w", id, err)
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
