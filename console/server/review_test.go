package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestReviewAPI: the view's review calls reach the real relay as the
// signed-in supervisor and answer its bodies: the list under the relay's
// filter (the console's launch secret never goes on), the detail, the
// reviewed mark, a comment, an outcome, the facets and a finding's
// snapshot streamed; bad input is 4xx naming it, from the console (an
// empty comment, an evidence name that is none) or the relay (a filter it
// does not know, an outcome without its number); duty may read and not
// write; the relay down is 503 relay_unreachable.
func TestReviewAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rr := startReviewRelay(t)
	creds, duty, sup := rr.creds, rr.duty, rr.sup

	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	d := wire.Draft{ID: "review-1", Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", TemplateID: "ppe-doffing", TemplateVersion: 1,
		Step: "goggles", Deviation: "wrong_order", DeviationText: "脱卸顺序错误", Severity: "major",
		Observer: creds.User, ObservedAt: at, FlaggedAt: at.Add(time.Second), Deadline: at.Add(30 * time.Minute)}
	if _, _, err := duty.FileFinding(ctx, d); err != nil {
		t.Fatal(err)
	}
	jpeg := append([]byte("\xff\xd8\xff\xe0"), "a snapshot"...)
	if _, _, err := duty.PutEvidence(ctx, d.ID, upload(wire.EvidenceSnapshot, "image/jpeg", jpeg)); err != nil {
		t.Fatal(err)
	}

	h := reviewHandler(t, sup)

	var page wire.ReviewPage
	// The browser's launch secret in the query is the console's, not a filter.
	decoded(t, send(t, h, "GET", "/api/v1/review/findings?site=site-01&overdue=1&token="+token, "", nil), http.StatusOK, &page)
	if page.Total != 1 || len(page.Items) != 1 || page.Items[0].ID != d.ID || !page.Items[0].Overdue {
		t.Fatalf("site-01's overdue: %+v", page)
	}
	decoded(t, send(t, h, "GET", "/api/v1/review/findings?site=site-02", "", nil), http.StatusOK, &page)
	if page.Total != 0 || page.Items == nil {
		t.Fatalf("site-02's: %+v; want none, as a list", page)
	}
	var detail wire.ReviewDetail
	decoded(t, send(t, h, "GET", "/api/v1/review/findings/review-1", "", nil), http.StatusOK, &detail)
	if detail.ID != d.ID || len(detail.Events) == 0 {
		t.Fatalf("detail %+v", detail)
	}
	decoded(t, send(t, h, "PUT", "/api/v1/review/findings/review-1/reviewed", `{"reviewed":true}`, jsonBody), http.StatusOK, &detail)
	if !detail.Review.Reviewed || detail.Review.ReviewedBy != "sup" {
		t.Fatalf("reviewed %+v", detail.Review)
	}
	decoded(t, send(t, h, "POST", "/api/v1/review/findings/review-1/comments", `{"text":"回头看"}`, jsonBody), http.StatusCreated, &detail)
	if len(detail.Comments) != 1 {
		t.Fatalf("comments %+v", detail.Comments)
	}
	decoded(t, send(t, h, "POST", "/api/v1/review/findings/review-1/outcomes", `{"kind":"suspend_order","doc_number":"沪卫监〔2026〕9号","note":""}`, jsonBody), http.StatusCreated, &detail)
	if len(detail.Outcomes) != 1 || detail.Outcomes[0].Kind != wire.OutcomeSuspendOrder {
		t.Fatalf("outcomes %+v", detail.Outcomes)
	}
	var facets wire.ReviewFacets
	decoded(t, send(t, h, "GET", "/api/v1/review/facets", "", nil), http.StatusOK, &facets)
	if len(facets.Sites) == 0 {
		t.Fatalf("facets %+v", facets)
	}
	a := send(t, h, "GET", "/api/v1/review/findings/review-1/evidence/snapshot", "", nil)
	if a.status != http.StatusOK || a.body != string(jpeg) || a.header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("the snapshot: %d %q %q", a.status, a.header.Get("Content-Type"), a.body)
	}

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"a filter the relay does not know", "GET", "/api/v1/review/findings?colour=red", "", http.StatusBadRequest, "invalid_field"},
		{"an empty comment", "POST", "/api/v1/review/findings/review-1/comments", `{"text":"  "}`, http.StatusBadRequest, "invalid_field"},
		{"a comment with a field too many", "POST", "/api/v1/review/findings/review-1/comments", `{"text":"x","by":"boss"}`, http.StatusBadRequest, "unknown_field"},
		{"an outcome without its number", "POST", "/api/v1/review/findings/review-1/outcomes", `{"kind":"case_filed","doc_number":"","note":""}`, http.StatusBadRequest, "invalid_field"},
		{"an evidence name that is none", "GET", "/api/v1/review/findings/review-1/evidence/..%2Fsecret", "", http.StatusNotFound, "unknown_evidence"},
		{"a photo the finding has not", "GET", "/api/v1/review/findings/review-1/evidence/photo-1", "", http.StatusNotFound, "unknown_evidence"},
		{"an unknown finding", "GET", "/api/v1/review/findings/nothing", "", http.StatusNotFound, "unknown_finding"},
	} {
		var header http.Header
		if tc.body != "" {
			header = jsonBody
		}
		if a := send(t, h, tc.method, tc.path, tc.body, header); a.status != tc.status || errorCode(t, a.body) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.body, tc.status, tc.code)
		}
	}

	hd := reviewHandler(t, duty)
	decoded(t, send(t, hd, "GET", "/api/v1/review/findings?reviewed=1", "", nil), http.StatusOK, &page)
	if page.Total != 1 {
		t.Fatalf("duty reading the reviewed: %+v", page)
	}
	if a := send(t, hd, "PUT", "/api/v1/review/findings/review-1/reviewed", `{"reviewed":false}`, jsonBody); a.status != http.StatusForbidden || errorCode(t, a.body) != "forbidden" {
		t.Fatalf("duty taking the mark back: %d %s, want 403 forbidden", a.status, a.body)
	}

	rr.relay.Stop(t)
	if a := send(t, h, "GET", "/api/v1/review/findings", "", nil); a.status != http.StatusServiceUnavailable || errorCode(t, a.body) != "relay_unreachable" {
		t.Fatalf("the relay down: %d %s", a.status, a.body)
	}
	rr.relay.Resume(t)
}

// reviewRelay is a real relay whose demo duty officer files findings and
// whose supervisor "sup" reviews them, each signed in.
type reviewRelay struct {
	relay     *relaytest.Relay
	creds     relay.DemoCredentials
	duty, sup *relayclient.Client
}

func startReviewRelay(t *testing.T) reviewRelay {
	t.Helper()
	const password = "a long test password"
	r := relaytest.Start(t, relaytest.Options{
		Config: relaytest.UsersConfig(t, relaytest.User{Name: "sup", Role: "supervisor", Password: password})})
	creds := r.Demo()
	return reviewRelay{relay: r, creds: creds,
		duty: relayclienttest.SignedIn(t, r.URL(), creds.User, creds.Password),
		sup:  relayclienttest.SignedIn(t, r.URL(), "sup", password)}
}

// reviewHandler is the console's API signed in to the relay as c.
func reviewHandler(t *testing.T, c *relayclient.Client) http.Handler {
	return New(Options{Assets: assets, Console: &signedIn{relay: c}, Wall: newWall(t), Secret: token, Log: zerolog.Nop(),
		Coverage: func() (*relayclient.Client, error) { return c, nil }})
}

// upload is data as an evidence file for the relay, with its digest.
func upload(kind, contentType string, data []byte) relayclient.Upload {
	sum := sha256.Sum256(data)
	return relayclient.Upload{Kind: kind, ContentType: contentType, SHA256: hex.EncodeToString(sum[:]),
		Open: func() (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
		}}
}
