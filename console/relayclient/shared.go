package relayclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// maxEvidence bounds an evidence file fetched from the relay: the largest
// kind the relay keeps, a clip.
const maxEvidence = 64 << 20

// ListFindings returns the findings the signed-in user's role sees at the
// relay (GET /api/v1/findings): every one not closed, and those closed
// since closedSince (all of them when it is zero). What a console signing
// in to it for the first time keeps a copy of.
func (c *Client) ListFindings(ctx context.Context, closedSince time.Time) ([]wire.Finding, error) {
	var out struct {
		Findings []wire.Finding `json:"findings"`
	}
	path := "/api/v1/findings"
	if !closedSince.IsZero() {
		path += "?closed_since=" + url.QueryEscape(closedSince.UTC().Format(time.RFC3339))
	}
	if _, err := c.findings(ctx, findingsCall{method: http.MethodGet, path: path, timeout: findingsTimeout}, &out); err != nil {
		return nil, fmt.Errorf("listing the relay's findings: %w", err)
	}
	return out.Findings, nil
}

// EvidenceFile fetches an evidence file of a finding by the relay's name
// for it (GET /api/v1/evidence/{id}/{name}: snapshot, clip, photo-N,
// recheck-N) and checks it against sha256 (hex), which the relay's list
// gives: the console keeps it under that name.
func (c *Client) EvidenceFile(ctx context.Context, findingID, name, sum string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, findingsTimeout)
	defer cancel()
	path := "/api/v1/evidence/" + url.PathEscape(findingID) + "/" + url.PathEscape(name)
	var data []byte
	err := c.getFile(ctx, path, func(resp *http.Response) error {
		h := sha256.New()
		var err error
		data, err = io.ReadAll(io.TeeReader(io.LimitReader(resp.Body, maxEvidence+1), h))
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		if len(data) > maxEvidence {
			return fmt.Errorf("%s is over %d bytes", path, maxEvidence)
		}
		if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, sum) {
			return fmt.Errorf("%s: its SHA-256 is %s, the relay's list says %s", path, got, sum)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fetching the %s of finding %s: %w", name, findingID, err)
	}
	return data, nil
}

// PutRecheck uploads the evidence of an officer's re-check of a finding
// (PUT /api/v1/findings/{id}/evidence/KIND?action_id=A), after the verify
// or reopen of action id actionID, which it documents: u.Kind is
// wire.EvidenceRecheck (the snapshot, also when empty) or
// wire.EvidenceRecheckClip (the clip around it).
func (c *Client) PutRecheck(ctx context.Context, findingID, actionID string, u Upload) (wire.File, bool, error) {
	kind := u.Kind
	if kind == "" {
		kind = wire.EvidenceRecheck
	}
	var file wire.File
	status, err := c.findings(ctx, findingsCall{
		method: http.MethodPut,
		path: findingPath(findingID) + "/evidence/" + url.PathEscape(kind) + "?" +
			url.Values{wire.QueryActionID: {actionID}}.Encode(),
		contentType: u.ContentType, header: http.Header{wire.HeaderContentSHA256: {u.SHA256}},
		body: u.Open, timeout: findingsTimeout,
	}, &file)
	if err != nil {
		return wire.File{}, false, fmt.Errorf("sending the %s of %s: %w", kind, findingID, err)
	}
	return file, status == http.StatusCreated, nil
}

// getFile GETs a file of the relay with the sign-in's token (renewed and
// asked again once if refused) and hands a 200's answer to read; any
// other status is the relay's error. The one way the client fetches a
// file: evidence, a notice's PDF, a report.
func (c *Client) getFile(ctx context.Context, path string, read func(resp *http.Response) error) error {
	_, err := c.authorized(ctx, func(token string) (*http.Request, error) {
		req, err := c.request(ctx, http.MethodGet, path, "", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		return req, nil
	}, func(req *http.Request) (*http.Response, error) {
		resp, err := c.stream.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			body, err := readLimited(resp)
			if err != nil {
				return resp, err
			}
			return resp, decodeError(resp, body)
		}
		return resp, read(resp)
	})
	return err
}
