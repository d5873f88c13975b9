package relayclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// PostWatches posts a batch of the signed-in officer's watch intervals
// (POST /api/v1/coverage/intervals). The relay answers a resent interval as
// a duplicate, and shifts the batch by the skew it measures between its
// clock and b.Now.
func (c *Client) PostWatches(ctx context.Context, b wire.WatchBatch) (wire.WatchBatchResult, error) {
	var out wire.WatchBatchResult
	fc, err := jsonCall(http.MethodPost, "/api/v1/coverage/intervals", b)
	if err == nil {
		_, err = c.findings(ctx, fc, &out)
	}
	if err != nil {
		return wire.WatchBatchResult{}, fmt.Errorf("posting %d watch intervals: %w", len(b.Intervals), err)
	}
	return out, nil
}

// CoverageQuery selects a coverage report; zero fields leave the relay's
// defaults (the shift under way, every site).
type CoverageQuery struct {
	From, To, At       time.Time
	Site, Zone, Camera string
}

func (q CoverageQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"site": q.Site, "zone": q.Zone, "camera": q.Camera} {
		if s != "" {
			v.Set(k, s)
		}
	}
	for k, t := range map[string]time.Time{"from": q.From, "to": q.To, "at": q.At} {
		if !t.IsZero() {
			v.Set(k, t.Format(time.RFC3339Nano))
		}
	}
	return v
}

// Coverage reads how the sites were watched (GET /api/v1/coverage).
func (c *Client) Coverage(ctx context.Context, q CoverageQuery) (wire.Coverage, error) {
	var out wire.Coverage
	if err := c.getJSON(ctx, "/api/v1/coverage", q.values(), &out); err != nil {
		return wire.Coverage{}, fmt.Errorf("reading coverage: %w", err)
	}
	return out, nil
}

// Moments reads the key moments from back before now to ahead after it
// (GET /api/v1/coverage/moments); zero durations leave the relay's.
func (c *Client) Moments(ctx context.Context, back, ahead time.Duration) (wire.Moments, error) {
	v := url.Values{}
	if back > 0 {
		v.Set("back", back.String())
	}
	if ahead > 0 {
		v.Set("ahead", ahead.String())
	}
	var out wire.Moments
	if err := c.getJSON(ctx, "/api/v1/coverage/moments", v, &out); err != nil {
		return wire.Moments{}, fmt.Errorf("reading key moments: %w", err)
	}
	return out, nil
}

// Unwatched reads the zones not seen for their policy's longest gap at at
// (now when zero) (GET /api/v1/coverage/unwatched).
func (c *Client) Unwatched(ctx context.Context, at time.Time) (wire.Unwatched, error) {
	v := url.Values{}
	if !at.IsZero() {
		v.Set("at", at.Format(time.RFC3339Nano))
	}
	var out wire.Unwatched
	if err := c.getJSON(ctx, "/api/v1/coverage/unwatched", v, &out); err != nil {
		return wire.Unwatched{}, fmt.Errorf("reading unwatched zones: %w", err)
	}
	return out, nil
}

func (c *Client) getJSON(ctx context.Context, path string, v url.Values, out any) error {
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	_, err := c.findings(ctx, findingsCall{method: http.MethodGet, path: path, timeout: findingsTimeout}, out)
	return err
}
