package relayclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// findingsTimeout bounds each findings call but the changes poll, the
// answer read included: a 64 MiB clip takes a while on a site's slow line.
const findingsTimeout = 2 * time.Minute

// changesMargin is how long a changes poll may take beyond the wait asked
// of the relay before it counts as lost.
const changesMargin = 30 * time.Second

func findingPath(id string) string { return "/api/v1/findings/" + url.PathEscape(id) }

// FileFinding files a finding as flagged (PUT /api/v1/findings/{id}) and
// returns it as the relay has it. The relay answers the same finding again
// as done (created false), and the same id with other content 409 conflict.
func (c *Client) FileFinding(ctx context.Context, d wire.Draft) (f wire.Finding, created bool, err error) {
	fc, err := jsonCall(http.MethodPut, findingPath(d.ID), d)
	if err != nil {
		return wire.Finding{}, false, fmt.Errorf("filing finding %s: %w", d.ID, err)
	}
	status, err := c.findings(ctx, fc, &f)
	if err != nil {
		return wire.Finding{}, false, fmt.Errorf("filing finding %s: %w", d.ID, err)
	}
	return f, status == http.StatusCreated, nil
}

// Upload is an evidence file for PutEvidence.
type Upload struct {
	// Kind is wire.EvidenceSnapshot or wire.EvidenceClip.
	Kind        string
	ContentType string
	// SHA256 is the content's, in hex: the relay checks it, and answers the
	// same file again as done.
	SHA256 string
	// Open gives the content and its size afresh for each attempt (a
	// refused token is renewed and the upload made once more). Its error
	// is returned wrapped, for the caller to tell apart.
	Open func() (io.ReadCloser, int64, error)
}

// PutEvidence uploads a finding's snapshot or clip (PUT
// /api/v1/findings/{id}/evidence/{kind}) and returns the file as the relay
// lists it; created is false when the relay had this file already.
func (c *Client) PutEvidence(ctx context.Context, findingID string, u Upload) (file wire.File, created bool, err error) {
	status, err := c.findings(ctx, findingsCall{
		method: http.MethodPut, path: findingPath(findingID) + "/evidence/" + url.PathEscape(u.Kind),
		contentType: u.ContentType, header: http.Header{wire.HeaderContentSHA256: {u.SHA256}},
		body: u.Open, timeout: findingsTimeout,
	}, &file)
	if err != nil {
		return wire.File{}, false, fmt.Errorf("sending the %s of %s: %w", u.Kind, findingID, err)
	}
	return file, status == http.StatusCreated, nil
}

// Act asks an action of a finding (POST /api/v1/findings/{id}/actions) and
// returns the finding as it is after it. The same ActionID again changes
// nothing and is answered as done.
func (c *Client) Act(ctx context.Context, findingID string, a wire.ActionRequest) (wire.Finding, error) {
	fc, err := jsonCall(http.MethodPost, findingPath(findingID)+"/actions", a)
	var f wire.Finding
	if err == nil {
		_, err = c.findings(ctx, fc, &f)
	}
	if err != nil {
		return wire.Finding{}, fmt.Errorf("sending %s of %s: %w", a.Action, findingID, err)
	}
	return f, nil
}

// Finding returns a finding as the relay has it (GET /api/v1/findings/{id}).
func (c *Client) Finding(ctx context.Context, id string) (wire.Finding, error) {
	var f wire.Finding
	if _, err := c.findings(ctx, findingsCall{method: http.MethodGet, path: findingPath(id), timeout: findingsTimeout}, &f); err != nil {
		return wire.Finding{}, fmt.Errorf("reading finding %s: %w", id, err)
	}
	return f, nil
}

// Changes polls the relay's changes feed (GET /api/v1/findings/changes):
// the changes after the cursor after as soon as there is one, or none once
// wait has passed.
func (c *Client) Changes(ctx context.Context, after int64, wait time.Duration) (wire.Changes, error) {
	q := url.Values{"after": {strconv.FormatInt(after, 10)}, "wait": {strconv.FormatFloat(wait.Seconds(), 'f', -1, 64)}}
	var out wire.Changes
	fc := findingsCall{method: http.MethodGet, path: "/api/v1/findings/changes?" + q.Encode(), timeout: wait + changesMargin}
	if _, err := c.findings(ctx, fc, &out); err != nil {
		return wire.Changes{}, fmt.Errorf("polling the relay's changes after %d: %w", after, err)
	}
	return out, nil
}

// findingsCall is one call of the findings API.
type findingsCall struct {
	method, path, contentType string
	header                    http.Header
	// body gives the request body afresh for each attempt (a refused token
	// is renewed and the call made once more); nil for none.
	body func() (io.ReadCloser, int64, error)
	// timeout bounds the call, the answer read included.
	timeout time.Duration
}

// jsonCall is a call with v as its JSON body.
func jsonCall(method, path string, v any) (findingsCall, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return findingsCall{}, fmt.Errorf("%w: %w", ErrUnsendable, err)
	}
	return findingsCall{method: method, path: path, contentType: "application/json", timeout: findingsTimeout,
		body: func() (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
		}}, nil
}

// findings makes a call of the findings API with the login token and
// decodes its answer, any 2xx, into out; it returns the answer's status.
func (c *Client) findings(ctx context.Context, fc findingsCall, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, fc.timeout)
	defer cancel()
	resp, err := c.authorized(ctx, func(token string) (*http.Request, error) {
		var body io.ReadCloser
		var size int64
		if fc.body != nil {
			var err error
			if body, size, err = fc.body(); err != nil {
				return nil, err
			}
		}
		req, err := c.request(ctx, fc.method, fc.path, fc.contentType, body)
		if err != nil {
			if body != nil {
				body.Close()
			}
			return nil, err
		}
		req.ContentLength = size
		for k, vs := range fc.header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		req.Header.Set("Authorization", "Bearer "+token)
		return req, nil
	}, func(req *http.Request) (*http.Response, error) {
		return c.doJSON(c.stream, req, anySuccess, out)
	})
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}
