package relayclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestContractReview: the supervisors' review through this client against
// the real relay: two findings filed by duty, the list filtered by site and
// by the reviewed mark with its total and paging cursor, a finding's detail
// with its history and evidence streamed, reviewed, a comment and an
// outcome recorded (the outcome again is done already), the facets; and
// the relay's refusals (duty writing, a site manager reading, an unknown
// filter parameter, an unknown finding) as Errors with their status and code.
func TestContractReview(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, duty, sup := startSupervised(t)
	creds := r.Demo()
	mgr := signIn(t, r.URL(), creds.Managers[0], creds.ManagerPassword)

	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	for i, site := range []string{"site-01", "site-02"} {
		d := wire.Draft{ID: fmt.Sprintf("review-%d", i+1), Site: site, Camera: "doff1", Zone: "doffing_room_1", TemplateID: "ppe-doffing", TemplateVersion: 1,
			Step: "goggles", Deviation: "wrong_order", DeviationText: "脱卸顺序错误", Severity: "major", Note: "先摘手套",
			Observer: creds.User, ObservedAt: at.Add(time.Duration(i) * time.Minute), FlaggedAt: at.Add(time.Duration(i)*time.Minute + time.Second),
			Deadline: at.Add(48 * time.Hour)}
		fileWithSnapshot(t, ctx, duty, d)
	}

	all, err := sup.ReviewFindings(ctx, url.Values{"limit": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != 2 || len(all.Items) != 1 || all.Next == "" || all.Items[0].ID != "review-2" {
		t.Fatalf("the whole list a page of one: %+v", all)
	}
	rest, err := sup.ReviewFindings(ctx, url.Values{"limit": {"1"}, "after": {all.Next}})
	if err != nil || rest.Total != 2 || len(rest.Items) != 1 || rest.Items[0].ID != "review-1" || rest.Next != "" {
		t.Fatalf("the next page: %+v, %v", rest, err)
	}
	one, err := sup.ReviewFindings(ctx, url.Values{"site": {"site-01"}})
	if err != nil {
		t.Fatal(err)
	}
	item := one.Items[0]
	if one.Total != 1 || item.ID != "review-1" || item.SiteName["zh-CN"] == "" || item.District["zh-CN"] == "" || item.Review.Reviewed ||
		item.Evidence.Snapshot == nil || item.Note != "先摘手套" {
		t.Fatalf("site-01's list: %+v", one)
	}

	d, err := sup.ReviewFinding(ctx, "review-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "review-1" || len(d.Events) == 0 || d.Events[0].Action != "created" || len(d.Comments) != 0 {
		t.Fatalf("the detail: %+v", d)
	}
	var got bytes.Buffer
	var head EvidenceHead
	if err := sup.CopyEvidence(ctx, "review-1", wire.EvidenceSnapshot, func(h EvidenceHead) io.Writer { head = h; return &got }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), snapshotJPEG) || head.ContentType != "image/jpeg" {
		t.Fatalf("the snapshot streamed: %q as %q", got.Bytes(), head.ContentType)
	}

	if d, err = sup.SetReviewed(ctx, "review-1", true); err != nil || !d.Review.Reviewed || d.Review.ReviewedBy != "sup" || d.Review.ReviewedAt == nil {
		t.Fatalf("marking reviewed: %+v, %v", d.Review, err)
	}
	if d, err = sup.AddComment(ctx, "review-1", "请区里回头看"); err != nil || len(d.Comments) != 1 || d.Comments[0].By != "sup" || d.Review.Comments != 1 {
		t.Fatalf("commenting: %+v, %v", d.Comments, err)
	}
	o := wire.OutcomeRequest{Kind: wire.OutcomeRectifyOrder, DocNumber: "沪卫监〔2026〕7号", Note: "限期三日"}
	if d, err = sup.AddOutcome(ctx, "review-1", o); err != nil || len(d.Outcomes) != 1 || d.Outcomes[0].DocNumber != o.DocNumber || d.Outcomes[0].By != "sup" {
		t.Fatalf("recording the outcome: %+v, %v", d.Outcomes, err)
	}
	if d, err = sup.AddOutcome(ctx, "review-1", o); err != nil || len(d.Outcomes) != 1 {
		t.Fatalf("the same outcome again: %+v, %v; want it once", d.Outcomes, err)
	}
	actions := map[string]bool{}
	for _, e := range d.Events {
		actions[e.Action] = true
	}
	if !actions[wire.EventReviewed] || !actions[wire.EventCommented] || !actions[wire.EventOutcome] {
		t.Fatalf("the history after the review: %v", actions)
	}
	reviewed, err := duty.ReviewFindings(ctx, url.Values{"reviewed": {"1"}})
	if err != nil || reviewed.Total != 1 || reviewed.Items[0].ID != "review-1" || len(reviewed.Items[0].Outcomes) != 1 {
		t.Fatalf("duty reading the reviewed ones: %+v, %v", reviewed, err)
	}

	facets, err := sup.ReviewFacets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(facets.Sites) == 0 || len(facets.Districts) == 0 || len(facets.Officers) != 1 || facets.Officers[0] != creds.User {
		t.Fatalf("facets: %+v", facets)
	}

	refusals := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"duty marking reviewed", func() error { _, err := duty.SetReviewed(ctx, "review-2", true); return err }, http.StatusForbidden, "forbidden"},
		{"duty recording an outcome", func() error { _, err := duty.AddOutcome(ctx, "review-2", o); return err }, http.StatusForbidden, "forbidden"},
		{"a site manager's list", func() error { _, err := mgr.ReviewFindings(ctx, nil); return err }, http.StatusForbidden, "forbidden"},
		{"a parameter the filter does not know", func() error {
			_, err := sup.ReviewFindings(ctx, url.Values{"colour": {"red"}})
			return err
		}, http.StatusBadRequest, "invalid_field"},
		{"an outcome without its document number", func() error {
			_, err := sup.AddOutcome(ctx, "review-2", wire.OutcomeRequest{Kind: wire.OutcomeCaseFiled})
			return err
		}, http.StatusBadRequest, "invalid_field"},
		{"an unknown finding", func() error { _, err := sup.ReviewFinding(ctx, "no-such-finding"); return err }, http.StatusNotFound, "unknown_finding"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			var rerr *Error
			if err := tc.call(); !errors.As(err, &rerr) || rerr.Status != tc.status || rerr.Code != tc.code {
				t.Fatalf("%v; want the relay's %d %s", err, tc.status, tc.code)
			}
		})
	}
}
