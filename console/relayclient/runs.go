package relayclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/qianliyan/qianliyan/relay/wire"
)

func runPath(id string) string { return "/api/v1/runs/" + url.PathEscape(id) }

// FileRunEvent files one event of a checklist run (POST
// /api/v1/runs/{id}/events) and returns the run as the relay has it after
// it. The relay answers the same event again as done (created false), and
// another one under a number it has 409 conflict; an event past the next
// one is refused 409 out_of_order.
func (c *Client) FileRunEvent(ctx context.Context, runID string, ev wire.RunEvent) (run wire.Run, created bool, err error) {
	fc, err := jsonCall(http.MethodPost, runPath(runID)+"/events", ev)
	if err == nil {
		var status int
		if status, err = c.findings(ctx, fc, &run); err == nil {
			return run, status == http.StatusCreated, nil
		}
	}
	return wire.Run{}, false, fmt.Errorf("filing event %d (%s) of run %s: %w", ev.Seq, ev.Kind, runID, err)
}

// Run returns a checklist run as the relay has it (GET /api/v1/runs/{id}).
func (c *Client) Run(ctx context.Context, id string) (wire.Run, error) {
	var run wire.Run
	if _, err := c.findings(ctx, findingsCall{method: http.MethodGet, path: runPath(id), timeout: findingsTimeout}, &run); err != nil {
		return wire.Run{}, fmt.Errorf("reading run %s: %w", id, err)
	}
	return run, nil
}

// RunsQuery selects runs for Runs; zero fields select all.
type RunsQuery struct {
	Site, Activity, Officer string
	// From and To bound when the runs started: [From, To).
	From, To time.Time
	Ended    *bool
}

func (q RunsQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"site": q.Site, "activity": q.Activity, "officer": q.Officer} {
		if s != "" {
			v.Set(k, s)
		}
	}
	for k, t := range map[string]time.Time{"from": q.From, "to": q.To} {
		if !t.IsZero() {
			v.Set(k, t.Format(time.RFC3339Nano))
		}
	}
	if q.Ended != nil {
		v.Set("ended", strconv.FormatBool(*q.Ended))
	}
	return v
}

// Runs lists checklist runs (GET /api/v1/runs), newest first.
func (c *Client) Runs(ctx context.Context, q RunsQuery) ([]wire.Run, error) {
	var out wire.Runs
	fc := findingsCall{method: http.MethodGet, path: "/api/v1/runs?" + q.values().Encode(), timeout: findingsTimeout}
	if _, err := c.findings(ctx, fc, &out); err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	return out.Runs, nil
}

// CheckStats counts the checks of the runs ended in [from, to) per site
// and activity (GET /api/v1/stats/checks); site and activity narrow it
// when not "".
func (c *Client) CheckStats(ctx context.Context, site, activity string, from, to time.Time) (wire.CheckStats, error) {
	q := RunsQuery{Site: site, Activity: activity, From: from, To: to}.values()
	var out wire.CheckStats
	fc := findingsCall{method: http.MethodGet, path: "/api/v1/stats/checks?" + q.Encode(), timeout: findingsTimeout}
	if _, err := c.findings(ctx, fc, &out); err != nil {
		return wire.CheckStats{}, fmt.Errorf("counting checks: %w", err)
	}
	return out, nil
}
