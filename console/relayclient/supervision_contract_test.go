package relayclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestContractSupervision: the statistics, the follow-up list, a notice
// and a report through this client against the real relay: three findings
// filed by duty counted by site (Σ groups = total), overdue and ranked; a
// site followed and let go; a notice over two findings of site-01 issued,
// listed, read and fetched as a PDF; a day's report as CSV (with its BOM)
// and XLSX; and the relay's refusals (an unknown filter parameter, duty
// issuing, a notice over two sites) as Errors with their status and code.
func TestContractSupervision(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r, duty, sup := startSupervised(t)
	creds := r.Demo()

	at := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Millisecond)
	for i, site := range []string{"site-01", "site-01", "site-02"} {
		d := wire.Draft{ID: fmt.Sprintf("sup-%d", i+1), Site: site, Camera: "doff1", Zone: "doffing_room_1", TemplateID: "ppe-doffing", TemplateVersion: 1,
			Step: "goggles", Deviation: "wrong_order", DeviationText: "脱卸顺序错误", Severity: "major", Note: "先摘手套",
			Observer: creds.User, ObservedAt: at.Add(time.Duration(i) * time.Minute), FlaggedAt: at.Add(time.Duration(i)*time.Minute + time.Second),
			Deadline: at.Add(time.Duration(i) * time.Hour)} // sup-1 overdue by 3 h, sup-2 by 2 h, sup-3 by 1 h
		fileWithSnapshot(t, ctx, duty, d)
	}

	st, err := sup.FindingStats(ctx, url.Values{"group": {"site"}})
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, g := range st.Groups {
		sum += g.Count
		if g.Drill == "" {
			t.Errorf("group %s has no drill", g.Key)
		}
	}
	if st.Total != 3 || sum != 3 || len(st.Groups) != 2 {
		t.Errorf("findings by site: %+v", st)
	}
	if od, err := sup.OverdueStats(ctx, url.Values{"site": {"site-01"}}); err != nil || od.Total != 2 {
		t.Errorf("overdue at site-01: %+v, %v", od, err)
	}
	if rs, err := sup.RectificationStats(ctx, nil); err != nil || rs.Total != 3 {
		t.Errorf("rectification: %+v, %v", rs, err)
	}
	ranked, err := sup.SiteRanking(ctx, url.Values{"limit": {"5"}})
	if err != nil || len(ranked) == 0 || ranked[0].Site != "site-01" || ranked[0].Findings != 2 {
		t.Errorf("sites ranked: %+v, %v", ranked, err)
	}
	if _, err := sup.RepeatStats(ctx, url.Values{"days": {"30"}}); err != nil {
		t.Error(err)
	}
	if _, err := sup.Follow(ctx, "site-01", wire.FollowupRequest{Reason: "问题较多", Filter: "site=site-01"}); err != nil {
		t.Fatal(err)
	}
	if fs, err := sup.Followups(ctx); err != nil || len(fs) != 1 || fs[0].Site != "site-01" || fs[0].AddedBy != "sup" {
		t.Errorf("follow-up list: %+v, %v", fs, err)
	}
	if err := sup.Unfollow(ctx, "site-01"); err != nil {
		t.Fatal(err)
	}
	if fs, err := sup.Followups(ctx); err != nil || len(fs) != 0 {
		t.Errorf("follow-up list after letting go: %+v, %v", fs, err)
	}

	n, err := sup.IssueNotice(ctx, wire.NoticeRequest{Site: "site-01", Findings: []string{"sup-1", "sup-2"}, Lang: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	if n.Number == "" || n.Total != 2 || len(n.Items) != 2 || n.Reported != 0 || n.Status != "open" {
		t.Errorf("the notice issued: %+v", n)
	}
	if list, err := sup.Notices(ctx, NoticesQuery{Site: "site-01"}); err != nil || len(list) != 1 || list[0].ID != n.ID {
		t.Errorf("site-01's notices: %+v, %v", list, err)
	}
	if got, err := sup.Notice(ctx, n.ID); err != nil || got.Number != n.Number {
		t.Errorf("the notice read back: %+v, %v", got, err)
	}
	pdf, err := sup.NoticePDF(ctx, n.ID, "zh-CN")
	if err != nil || pdf.ContentType != "application/pdf" || !bytes.HasPrefix(pdf.Data, []byte("%PDF")) {
		t.Errorf("the notice's PDF: %s, %d bytes, %v", pdf.ContentType, len(pdf.Data), err)
	}

	day := time.Now().In(time.Local).Format("2006-01-02")
	csv, err := sup.Report(ctx, ReportQuery{Period: "daily", Date: day, Lang: "zh-CN", Format: "csv"})
	if err != nil || !bytes.HasPrefix(csv.Data, []byte("\xef\xbb\xbf")) || !strings.HasPrefix(csv.ContentType, "text/csv") {
		t.Errorf("the daily CSV: %s %q…, %v", csv.ContentType, csv.Data[:min(len(csv.Data), 16)], err)
	}
	if xlsx, err := sup.Report(ctx, ReportQuery{Period: "weekly", Date: day, Lang: "en", Format: "xlsx"}); err != nil || !bytes.HasPrefix(xlsx.Data, []byte("PK")) || xlsx.Filename == "" {
		t.Errorf("the weekly XLSX: %q, %d bytes, %v", xlsx.Filename, len(xlsx.Data), err)
	}

	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"an unknown filter parameter", func() error {
			_, err := sup.FindingStats(ctx, url.Values{"group": {"site"}, "colour": {"red"}})
			return err
		}(), http.StatusBadRequest, "invalid_field"},
		{"duty issuing", func() error {
			_, err := duty.IssueNotice(ctx, wire.NoticeRequest{Site: "site-02", Findings: []string{"sup-3"}})
			return err
		}(), http.StatusForbidden, "forbidden"},
	} {
		var rerr *Error
		if !errors.As(tc.err, &rerr) || rerr.Status != tc.status || rerr.Code != tc.code {
			t.Errorf("%s: %v, want %d %s", tc.name, tc.err, tc.status, tc.code)
		}
	}
	_, err = sup.IssueNotice(ctx, wire.NoticeRequest{Site: "site-02", Findings: []string{"sup-3", "sup-1"}})
	var rerr *Error
	if !errors.As(err, &rerr) || rerr.Status < 400 || rerr.Status > 499 {
		t.Errorf("a notice over two sites: %v, want a refusal", err)
	}
}
