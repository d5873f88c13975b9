package relayclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// The supervisors' statistics (GET /api/v1/stats/...; relay/stats). Each
// takes the review filter as the query the view built (the relay parses it
// and refuses an unknown or malformed parameter with 400 and its field), so
// the console never has a filter of its own that could count other rows.
// The checks performed (户次) are CheckStats (runs.go), or Checks with the
// dashboard's query.

// FindingStats counts the filter's findings by group (and split), q being
// the filter with group= and split=.
func (c *Client) FindingStats(ctx context.Context, q url.Values) (wire.FindingStats, error) {
	var out wire.FindingStats
	return out, c.stats(ctx, "findings", q, &out)
}

// RectificationStats is the filter's rectification rate and median time to
// rectify, by group= when given.
func (c *Client) RectificationStats(ctx context.Context, q url.Values) (wire.RectificationStats, error) {
	var out wire.RectificationStats
	return out, c.stats(ctx, "rectification", q, &out)
}

// OverdueStats is the filter's findings overdue now, by age.
func (c *Client) OverdueStats(ctx context.Context, q url.Values) (wire.OverdueStats, error) {
	var out wire.OverdueStats
	return out, c.stats(ctx, "overdue", q, &out)
}

// RepeatStats is the repeated deviations per site (days= the window).
func (c *Client) RepeatStats(ctx context.Context, q url.Values) ([]wire.RepeatSite, error) {
	var out []wire.RepeatSite
	return out, c.stats(ctx, "repeats", q, &out)
}

// SiteRanking is the sites ranked by problems (limit=).
func (c *Client) SiteRanking(ctx context.Context, q url.Values) ([]wire.RankedSite, error) {
	var out []wire.RankedSite
	return out, c.stats(ctx, "sites", q, &out)
}

// ShiftCoverageStats is the watch coverage per shift from..to.
func (c *Client) ShiftCoverageStats(ctx context.Context, q url.Values) ([]wire.ShiftCoverage, error) {
	var out []wire.ShiftCoverage
	return out, c.stats(ctx, "coverage", q, &out)
}

// Checks counts the checks performed (户次) with the view's query
// (site=, activity=, from=, to= RFC 3339, by=activity|template).
func (c *Client) Checks(ctx context.Context, q url.Values) (wire.CheckStats, error) {
	var out wire.CheckStats
	return out, c.stats(ctx, "checks", q, &out)
}

func (c *Client) stats(ctx context.Context, what string, q url.Values, out any) error {
	if err := c.getJSON(ctx, "/api/v1/stats/"+what, q, out); err != nil {
		return fmt.Errorf("reading the %s statistics: %w", what, err)
	}
	return nil
}

// Followups is the on-site follow-up list (GET /api/v1/followups).
func (c *Client) Followups(ctx context.Context) ([]wire.Followup, error) {
	var out []wire.Followup
	if err := c.getJSON(ctx, "/api/v1/followups", nil, &out); err != nil {
		return nil, fmt.Errorf("reading the follow-up list: %w", err)
	}
	return out, nil
}

func followupPath(site string) string { return "/api/v1/followups/" + url.PathEscape(site) }

// Follow puts site on the follow-up list (PUT /api/v1/followups/{site});
// again is harmless.
func (c *Client) Follow(ctx context.Context, site string, req wire.FollowupRequest) (wire.Followup, error) {
	var out wire.Followup
	fc, err := jsonCall(http.MethodPut, followupPath(site), req)
	if err == nil {
		_, err = c.findings(ctx, fc, &out)
	}
	if err != nil {
		return wire.Followup{}, fmt.Errorf("putting %s on the follow-up list: %w", site, err)
	}
	return out, nil
}

// Unfollow takes site off the follow-up list (DELETE /api/v1/followups/{site}).
func (c *Client) Unfollow(ctx context.Context, site string) error {
	ctx, cancel := context.WithTimeout(ctx, findingsTimeout)
	defer cancel()
	_, err := c.authorized(ctx, func(token string) (*http.Request, error) {
		req, err := c.request(ctx, http.MethodDelete, followupPath(site), "", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req, err
	}, func(req *http.Request) (*http.Response, error) {
		resp, _, err := c.do(c.stream, req, anySuccess)
		return resp, err
	})
	if err != nil {
		return fmt.Errorf("taking %s off the follow-up list: %w", site, err)
	}
	return nil
}
