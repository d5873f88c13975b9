package relayclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// Shift returns the shift under way at the relay, the time left in it and
// who is on duty (GET /api/v1/shift).
func (c *Client) Shift(ctx context.Context) (wire.ShiftNow, error) {
	var out wire.ShiftNow
	if _, err := c.findings(ctx, findingsCall{method: http.MethodGet, path: "/api/v1/shift", timeout: findingsTimeout}, &out); err != nil {
		return wire.ShiftNow{}, fmt.Errorf("reading the shift: %w", err)
	}
	return out, nil
}

// StartDuty puts the signed-in user on duty (POST /api/v1/duty/start);
// started is false when they were on already.
func (c *Client) StartDuty(ctx context.Context) (duty wire.Duty, started bool, err error) {
	status, err := c.findings(ctx, findingsCall{method: http.MethodPost, path: "/api/v1/duty/start", timeout: findingsTimeout}, &duty)
	if err != nil {
		return wire.Duty{}, false, fmt.Errorf("starting duty: %w", err)
	}
	return duty, status == http.StatusCreated, nil
}

// HandoverDraft returns the shift the signed-in user would hand over now
// and the checklist the relay suggests (GET /api/v1/handover/draft).
func (c *Client) HandoverDraft(ctx context.Context) (wire.HandoverDraft, error) {
	var out wire.HandoverDraft
	if _, err := c.findings(ctx, findingsCall{method: http.MethodGet, path: "/api/v1/handover/draft", timeout: findingsTimeout}, &out); err != nil {
		return wire.HandoverDraft{}, fmt.Errorf("reading the handover draft: %w", err)
	}
	return out, nil
}

// Handover hands over with a note, ending the signed-in user's duty (POST
// /api/v1/handover). The same request again is answered as done (created
// false): a retry after a lost answer is harmless.
func (c *Client) Handover(ctx context.Context, req wire.HandoverRequest) (h wire.Handover, created bool, err error) {
	fc, err := jsonCall(http.MethodPost, "/api/v1/handover", req)
	if err == nil {
		var status int
		if status, err = c.findings(ctx, fc, &h); err == nil {
			return h, status == http.StatusCreated, nil
		}
	}
	return wire.Handover{}, false, fmt.Errorf("handing over (%s): %w", req.ID, err)
}

// CurrentHandover returns what the incoming officer sees first: the last
// shift's handovers and what they leave (GET /api/v1/handover/current).
func (c *Client) CurrentHandover(ctx context.Context) (wire.HandoverView, error) {
	var out wire.HandoverView
	if _, err := c.findings(ctx, findingsCall{method: http.MethodGet, path: "/api/v1/handover/current", timeout: findingsTimeout}, &out); err != nil {
		return wire.HandoverView{}, fmt.Errorf("reading the current handover: %w", err)
	}
	return out, nil
}

// ConfirmHandover records the signed-in user's receipt of a handover (POST
// /api/v1/handover/{id}/receipt), which also puts them on duty.
func (c *Client) ConfirmHandover(ctx context.Context, id string) (wire.Handover, error) {
	var h wire.Handover
	path := "/api/v1/handover/" + url.PathEscape(id) + "/receipt"
	if _, err := c.findings(ctx, findingsCall{method: http.MethodPost, path: path, timeout: findingsTimeout}, &h); err != nil {
		return wire.Handover{}, fmt.Errorf("confirming handover %s: %w", id, err)
	}
	return h, nil
}
