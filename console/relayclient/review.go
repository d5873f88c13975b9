package relayclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// The supervisors' review of the relay's findings (docs/PROTOCOLS.md,
// "Issue 13: review"). The filter is the relay's: the console passes its
// parameters on as they are and the relay says what is wrong with one.

func reviewPath(id string) string { return "/api/v1/review/findings/" + url.PathEscape(id) }

// ReviewFindings reads a page of the review list (GET
// /api/v1/review/findings?<filter>&sort&limit&after).
func (c *Client) ReviewFindings(ctx context.Context, q url.Values) (wire.ReviewPage, error) {
	var out wire.ReviewPage
	if err := c.getJSON(ctx, "/api/v1/review/findings", q, &out); err != nil {
		return wire.ReviewPage{}, fmt.Errorf("reading the review list: %w", err)
	}
	return out, nil
}

// ReviewFinding reads a finding with its whole history, comments and
// checklist run (GET /api/v1/review/findings/{id}).
func (c *Client) ReviewFinding(ctx context.Context, id string) (wire.ReviewDetail, error) {
	var out wire.ReviewDetail
	if err := c.getJSON(ctx, reviewPath(id), nil, &out); err != nil {
		return wire.ReviewDetail{}, fmt.Errorf("reading finding %s for review: %w", id, err)
	}
	return out, nil
}

// SetReviewed marks a finding reviewed or takes the mark back (PUT
// /api/v1/review/findings/{id}/reviewed).
func (c *Client) SetReviewed(ctx context.Context, id string, reviewed bool) (wire.ReviewDetail, error) {
	var out wire.ReviewDetail
	if err := c.sendJSON(ctx, http.MethodPut, reviewPath(id)+"/reviewed", wire.ReviewedRequest{Reviewed: reviewed}, &out); err != nil {
		return wire.ReviewDetail{}, fmt.Errorf("marking %s reviewed %v: %w", id, reviewed, err)
	}
	return out, nil
}

// AddComment comments on a finding (POST /api/v1/review/findings/{id}/comments).
func (c *Client) AddComment(ctx context.Context, id, text string) (wire.ReviewDetail, error) {
	var out wire.ReviewDetail
	if err := c.sendJSON(ctx, http.MethodPost, reviewPath(id)+"/comments", wire.CommentRequest{Text: text}, &out); err != nil {
		return wire.ReviewDetail{}, fmt.Errorf("commenting on %s: %w", id, err)
	}
	return out, nil
}

// AddOutcome records an enforcement outcome with its document number
// (POST /api/v1/review/findings/{id}/outcomes); the same kind and number
// again is answered as done.
func (c *Client) AddOutcome(ctx context.Context, id string, o wire.OutcomeRequest) (wire.ReviewDetail, error) {
	var out wire.ReviewDetail
	if err := c.sendJSON(ctx, http.MethodPost, reviewPath(id)+"/outcomes", o, &out); err != nil {
		return wire.ReviewDetail{}, fmt.Errorf("recording %s %q on %s: %w", o.Kind, o.DocNumber, id, err)
	}
	return out, nil
}

// ReviewFacets reads the values the review's filters offer (GET
// /api/v1/review/facets).
func (c *Client) ReviewFacets(ctx context.Context) (wire.ReviewFacets, error) {
	var out wire.ReviewFacets
	if err := c.getJSON(ctx, "/api/v1/review/facets", nil, &out); err != nil {
		return wire.ReviewFacets{}, fmt.Errorf("reading the review's facets: %w", err)
	}
	return out, nil
}

// EvidenceHead is what is known of an evidence file before its bytes.
type EvidenceHead struct {
	ContentType string
	// Size is -1 when the relay did not say.
	Size int64
}

// CopyEvidence streams an evidence file of any finding the signed-in user
// may read (GET /api/v1/evidence/{id}/{name}: snapshot, clip, photo-N,
// recheck-N) into the writer to returns once the relay has answered 200,
// at most maxEvidence bytes: a supervisor's view shows the relay's files
// without the console keeping them.
func (c *Client) CopyEvidence(ctx context.Context, findingID, name string, to func(EvidenceHead) io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, findingsTimeout)
	defer cancel()
	path := "/api/v1/evidence/" + url.PathEscape(findingID) + "/" + url.PathEscape(name)
	err := c.getFile(ctx, path, func(resp *http.Response) error {
		if resp.ContentLength > maxEvidence {
			return fmt.Errorf("%s is %d bytes, over %d", path, resp.ContentLength, maxEvidence)
		}
		w := to(EvidenceHead{ContentType: resp.Header.Get("Content-Type"), Size: resp.ContentLength})
		if _, err := io.Copy(w, io.LimitReader(resp.Body, maxEvidence)); err != nil {
			return fmt.Errorf("copying %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fetching the %s of finding %s: %w", name, findingID, err)
	}
	return nil
}

// sendJSON makes a call with a JSON body and decodes the answer into out.
func (c *Client) sendJSON(ctx context.Context, method, path string, body, out any) error {
	fc, err := jsonCall(method, path, body)
	if err != nil {
		return err
	}
	_, err = c.findings(ctx, fc, out)
	return err
}
