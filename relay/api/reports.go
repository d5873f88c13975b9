package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/audit"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/reports"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Reports makes the supervisors' reports (relay/reports.Builder).
type Reports interface {
	Build(ctx context.Context, p auth.Principal, req reports.Request) (wire.Report, error)
}

// Audit keeps the record of every document made (relay/audit.Log).
type Audit interface {
	Record(ctx context.Context, by auth.Principal, e audit.Entry) error
	List(ctx context.Context, p auth.Principal, q audit.Query) ([]wire.AuditExport, error)
}

// ReviewList pages through the review list (relay/review.Store), for its
// export.
type ReviewList interface {
	List(ctx context.Context, by auth.Principal, f review.Filter, p review.Page) (wire.ReviewPage, error)
}

func (s *server) mountReports(rt *httpapi.Router) {
	rt.Route("/api/v1/reports/{period}", httpapi.Methods{http.MethodGet: s.report})
	if s.ReviewList != nil {
		rt.Route("/api/v1/review/export", httpapi.Methods{http.MethodGet: s.reviewExport})
	}
	rt.Route("/api/v1/audit/exports", httpapi.Methods{http.MethodGet: s.auditExports})
}

// reader returns the caller if they may read the supervisors' records
// (duty, supervisor, admin).
func (s *server) reader(r *http.Request) (auth.Principal, error) {
	p, _, err := s.principal(r)
	if err != nil {
		return p, err
	}
	if p.Role == auth.RoleSiteManager {
		return p, fault.New(fault.Forbidden, "forbidden", "the supervisors' reports are not a site manager's to read")
	}
	return p, nil
}

// only refuses parameters of q not among known (400 invalid_field naming it).
func only(q url.Values, known ...string) error {
	for k, v := range q {
		if !slices.Contains(known, k) {
			return fault.Field(k, "unknown parameter: want one of %s", strings.Join(known, ", "))
		}
		if len(v) > 1 {
			return fault.Field(k, "give it once")
		}
	}
	return nil
}

// format reads format= among allowed (the first is the default).
func format(q url.Values, allowed ...string) (string, error) {
	f := q.Get("format")
	if f == "" {
		return allowed[0], nil
	}
	if !slices.Contains(allowed, f) {
		return "", fault.Field("format", "format %q: want %s", f, strings.Join(allowed, ", "))
	}
	return f, nil
}

// lang reads lang= (zh-CN by default).
func lang(q url.Values) (string, error) {
	l := q.Get("lang")
	if l == "" {
		return bilingual.ZH, nil
	}
	if !bilingual.Known(l) {
		return "", fault.Field("lang", "lang %q: want zh-CN or en", l)
	}
	return l, nil
}

// report: GET /api/v1/reports/{period}?date=&shift=&lang=&format=
// (json, xlsx, pdf, csv), recorded in the audit before it is answered.
func (s *server) report(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reader(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := only(q, "date", "shift", "lang", "format"); err != nil {
		return err
	}
	f, err := format(q, "json", "xlsx", "pdf", "csv")
	if err != nil {
		return err
	}
	l, err := lang(q)
	if err != nil {
		return err
	}
	req := reports.Request{Period: r.PathValue("period"), Date: q.Get("date"), Shift: q.Get("shift"), Lang: l}
	if req.Date == "" { // today, as the audit records it
		req.Date = s.Now().In(s.ReportZone).Format("2006-01-02")
	}
	rep, err := s.Reports.Build(r.Context(), p, req)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	switch f {
	case "xlsx":
		err = reports.WriteXLSX(&buf, rep)
	case "csv":
		err = reports.WriteCSV(&buf, rep)
	case "pdf":
		err = reports.WritePDF(&buf, rep)
	}
	if err != nil {
		return err
	}
	if err := s.Audit.Record(r.Context(), p, audit.Entry{What: audit.WhatReport, Format: f, Filter: req.Query(),
		Detail: rep.Period + " " + rep.Label}); err != nil {
		return err
	}
	if f == "json" {
		httpapi.WriteJSON(w, http.StatusOK, rep)
		return nil
	}
	download(w, reports.ContentTypes[f], reports.FileName(rep, f))
	_, err = w.Write(buf.Bytes())
	return err
}

// download sets the headers of a file to save.
func download(w http.ResponseWriter, contentType, name string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q; filename*=UTF-8''%s", name, url.PathEscape(name)))
	w.Header().Set("Cache-Control", "no-store")
}

// reviewExport: GET /api/v1/review/export?<filter>&sort=&format=xlsx|csv&lang=
// — the whole review list of the filter as a spreadsheet. A list longer
// than reports.MaxExportRows is refused (413 export_too_large) before any
// of it is made.
func (s *server) reviewExport(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reader(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	own := url.Values{}
	for _, k := range []string{"format", "lang", "sort"} {
		if v, ok := q[k]; ok {
			if len(v) > 1 {
				return fault.Field(k, "give it once")
			}
			own[k] = v
			delete(q, k)
		}
	}
	f, err := format(own, "xlsx", "csv")
	if err != nil {
		return err
	}
	l, err := lang(own)
	if err != nil {
		return err
	}
	loc := s.ReportZone
	filter, err := review.ParseFilter(q, s.Now(), loc)
	if err != nil {
		return err
	}
	pq := url.Values{"limit": {fmt.Sprint(review.MaxLimit)}}
	if v := own.Get("sort"); v != "" {
		pq.Set("sort", v)
	}
	page, err := review.ParsePage(pq)
	if err != nil {
		return err
	}
	first, err := s.ReviewList.List(r.Context(), p, filter, page)
	if err != nil {
		return err
	}
	if first.Total > reports.MaxExportRows {
		return &fault.Error{Kind: fault.TooLarge, Code: "export_too_large",
			Message: fmt.Sprintf("the filter selects %d findings; an export holds at most %d: narrow the filter (a shorter period, a district)",
				first.Total, reports.MaxExportRows)}
	}
	var buf bytes.Buffer
	ex, err := reports.NewExport(&buf, f, l, loc)
	if err != nil {
		return err
	}
	for pg := first; ; {
		for _, it := range pg.Items {
			if err := ex.Item(it); err != nil {
				return fmt.Errorf("exporting the review list: %w", err)
			}
		}
		if pg.Next == "" {
			break
		}
		page.After = pg.Next
		if pg, err = s.ReviewList.List(r.Context(), p, filter, page); err != nil {
			return err
		}
	}
	if err := ex.Close(); err != nil {
		return err
	}
	if err := s.Audit.Record(r.Context(), p, audit.Entry{What: audit.WhatReviewExport, Format: f, Filter: filter.Query().Encode(),
		Detail: fmt.Sprintf("%d findings", first.Total)}); err != nil {
		return err
	}
	download(w, reports.ContentTypes[f], "review."+f)
	_, err = w.Write(buf.Bytes())
	return err
}
