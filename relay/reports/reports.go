// Package reports makes the supervisors' reports in the layout the
// institute reports upwards (sites supervised, checks 户次, problems found by
// category, ordered to rectify, rectified, verified, overdue, notices
// issued, coverage) for a day, a shift, an ISO week or a month, as JSON,
// XLSX, CSV or PDF in zh-CN or English, and sends the daily one on a
// schedule. Every count of findings is relay/stats' over the review list's
// filter, so a report's figure equals the review list's total for the
// filter it links to; checks are relay/runs', coverage relay/stats'. It
// owns the table report_sends (relay/store's migration 0017).
package reports

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/runs"
	"github.com/qianliyan/qianliyan/relay/shifts"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Stats counts the review list's findings and the coverage per shift
// (relay/stats.Store).
type Stats interface {
	Findings(ctx context.Context, p auth.Principal, q url.Values) (wire.FindingStats, error)
	Coverage(ctx context.Context, p auth.Principal, q url.Values) ([]wire.ShiftCoverage, error)
}

// Checks counts the checklist runs (relay/runs.Store).
type Checks interface {
	Checks(ctx context.Context, p auth.Principal, per runs.Period) (wire.CheckStats, error)
}

// Catalogue is the relay's sites (relay/store.Store).
type Catalogue interface {
	Sites(ctx context.Context) ([]store.Site, error)
}

// Builder makes reports.
type Builder struct {
	Stats     Stats
	Checks    Checks
	Catalogue Catalogue
	// Schedule is the duty room's shifts; its time zone is the one days,
	// weeks and months are counted in.
	Schedule *shifts.Schedule
	Now      func() time.Time
}

// Request asks for a report: the period (wire.PeriodDaily…), a day in it
// (YYYY-MM-DD; today when empty), the shift's id for a shift report, and
// the language of its words.
type Request struct {
	Period, Date, Shift, Lang string
}

// Query is the request as a query string, for the audit record.
func (r Request) Query() string {
	q := url.Values{"date": {r.Date}, "lang": {r.Lang}}
	if r.Shift != "" {
		q.Set("shift", r.Shift)
	}
	return "period=" + r.Period + "&" + q.Encode()
}

// mayRead lets the duty room read reports; site managers are refused.
func mayRead(p auth.Principal) error {
	switch p.Role {
	case auth.RoleDuty, auth.RoleSupervisor, auth.RoleAdmin:
		return nil
	}
	return fault.New(fault.Forbidden, "forbidden", "the supervisors' reports are not a %s's to read", p.Role)
}

// Build makes the report req asks for, as p may read it.
func (b *Builder) Build(ctx context.Context, p auth.Principal, req Request) (wire.Report, error) {
	if err := mayRead(p); err != nil {
		return wire.Report{}, err
	}
	if req.Lang == "" {
		req.Lang = bilingual.ZH
	}
	if !bilingual.Known(req.Lang) {
		return wire.Report{}, fault.Field("lang", "lang %q: want zh-CN or en", req.Lang)
	}
	now := b.Now()
	if req.Date == "" {
		req.Date = now.In(b.Schedule.Location()).Format(day)
	}
	sp, err := periodOf(b.Schedule, req.Period, req.Date, req.Shift)
	if err != nil {
		return wire.Report{}, err
	}
	rep := wire.Report{Period: req.Period, Label: sp.label, Shift: sp.shift, From: sp.from.UTC(), To: sp.to.UTC(),
		TimeZone: b.Schedule.Location().String(), Lang: req.Lang, Made: now.UTC(),
		Problems: []wire.ReportGroup{}, Sites: []wire.ReportSite{}, Checks: []wire.ReportChecks{}, Coverage: []wire.ReportShift{}}
	if err := b.figures(ctx, p, sp, &rep); err != nil {
		return wire.Report{}, err
	}
	if err := b.problems(ctx, p, sp, &rep); err != nil {
		return wire.Report{}, err
	}
	if err := b.coverage(ctx, p, sp, &rep); err != nil {
		return wire.Report{}, err
	}
	return rep, nil
}

// with is the period's filter with more conditions.
func with(base url.Values, kv ...string) url.Values {
	q := url.Values{}
	for k, v := range base {
		q[k] = slices.Clone(v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

// The statuses each figure counts.
const (
	notWithdrawn = "open,acknowledged,rectified,verified,reopened"
	rectifiedNow = "rectified,verified"
)

// count is the review list's findings of q, by site.
func (b *Builder) count(ctx context.Context, p auth.Principal, q url.Values) (wire.FindingStats, error) {
	return b.Stats.Findings(ctx, p, with(q, "group", "site"))
}

// figures fills the headline figures and the sites' rows.
func (b *Builder) figures(ctx context.Context, p auth.Principal, sp span, rep *wire.Report) error {
	f := &rep.Figures
	f.Drill = map[string]string{}
	sites := map[string]*wire.ReportSite{}
	site := func(id string) *wire.ReportSite {
		if s := sites[id]; s != nil {
			return s
		}
		sites[id] = &wire.ReportSite{Site: id}
		return sites[id]
	}
	for _, fig := range []struct {
		key    string
		total  *int
		filter url.Values
		per    func(*wire.ReportSite) *int
	}{
		{"findings", &f.Findings, sp.filter, func(s *wire.ReportSite) *int { return &s.Findings }},
		{"ordered_to_rectify", &f.OrderedToRectify, with(sp.filter, "status", notWithdrawn), func(s *wire.ReportSite) *int { return &s.OrderedToRectify }},
		{"rectified", &f.Rectified, with(sp.filter, "status", rectifiedNow), func(s *wire.ReportSite) *int { return &s.Rectified }},
		{"verified", &f.Verified, with(sp.filter, "status", "verified"), func(s *wire.ReportSite) *int { return &s.Verified }},
		{"overdue", &f.Overdue, with(sp.filter, "overdue", "1"), func(s *wire.ReportSite) *int { return &s.Overdue }},
		{"notices_issued", &f.NoticesIssued, with(sp.filter, "outcome", "notice_issued"), nil},
	} {
		st, err := b.count(ctx, p, fig.filter)
		if err != nil {
			return fmt.Errorf("counting the report's %s: %w", fig.key, err)
		}
		*fig.total = st.Total
		f.Drill[fig.key] = fig.filter.Encode()
		if fig.per == nil {
			continue
		}
		for _, g := range st.Groups {
			*fig.per(site(g.Key)) = g.Count
			if fig.key == "findings" {
				site(g.Key).Drill = g.Drill
			}
		}
	}
	checks, err := b.Checks.Checks(ctx, p, runs.Period{From: sp.from, To: sp.to})
	if err != nil {
		return fmt.Errorf("counting the report's checks: %w", err)
	}
	byActivity := map[string]*wire.ReportChecks{}
	for _, c := range checks.Stats {
		f.Checks += c.Checks
		site(c.Site).Checks += c.Checks
		a := byActivity[c.Activity]
		if a == nil {
			a = &wire.ReportChecks{Activity: c.Activity}
			byActivity[c.Activity] = a
		}
		a.Checks += c.Checks
		a.StepsObserved += c.StepsObserved
		a.StepsCorrect += c.StepsCorrect
	}
	for _, a := range byActivity {
		if a.StepsObserved > 0 {
			r := float64(a.StepsCorrect) / float64(a.StepsObserved)
			a.ComplianceRate = &r
		}
		rep.Checks = append(rep.Checks, *a)
	}
	slices.SortFunc(rep.Checks, func(x, y wire.ReportChecks) int { return strings.Compare(x.Activity, y.Activity) })

	catalogue, err := b.Catalogue.Sites(ctx)
	if err != nil {
		return fmt.Errorf("reading the sites for a report: %w", err)
	}
	known := map[string]store.Site{}
	for _, s := range catalogue {
		known[s.ID] = s
	}
	for id, s := range sites {
		if c, ok := known[id]; ok {
			s.Name, s.District = c.Name, c.District
		} else {
			s.Name = bilingual.New(id, id)
		}
		if s.Drill == "" {
			s.Drill = with(sp.filter, "site", id).Encode()
		}
		rep.Sites = append(rep.Sites, *s)
	}
	f.SitesSupervised = len(rep.Sites)
	slices.SortFunc(rep.Sites, func(x, y wire.ReportSite) int {
		if c := strings.Compare(x.District.In(bilingual.ZH), y.District.In(bilingual.ZH)); c != 0 {
			return c
		}
		return strings.Compare(x.Site, y.Site)
	})
	return nil
}

// problems fills the findings by template (activity) and deviation.
func (b *Builder) problems(ctx context.Context, p auth.Principal, sp span, rep *wire.Report) error {
	tpl, err := b.Stats.Findings(ctx, p, with(sp.filter, "group", "template"))
	if err != nil {
		return fmt.Errorf("counting the report's problems: %w", err)
	}
	for _, g := range tpl.Groups {
		row := wire.ReportGroup{Key: g.Key, Label: g.Label, Count: g.Count, Drill: g.Drill}
		devs, err := b.Stats.Findings(ctx, p, with(sp.filter, "template", g.Key, "group", "deviation"))
		if err != nil {
			return fmt.Errorf("counting the report's problems of %s: %w", g.Key, err)
		}
		for _, d := range devs.Groups {
			row.Deviations = append(row.Deviations, wire.ReportGroup{Key: d.Key, Label: d.Label, Count: d.Count, Drill: d.Drill})
		}
		rep.Problems = append(rep.Problems, row)
	}
	slices.SortStableFunc(rep.Problems, func(x, y wire.ReportGroup) int { return y.Count - x.Count })
	return nil
}

// coverage fills the watch coverage of each shift of the period.
func (b *Builder) coverage(ctx context.Context, p auth.Principal, sp span, rep *wire.Report) error {
	if !sp.from.Before(b.Now()) {
		return nil // nothing watched yet
	}
	cov, err := b.Stats.Coverage(ctx, p, url.Values{"from": sp.filter["from"], "to": sp.filter["to"]})
	if err != nil {
		return fmt.Errorf("reading the report's coverage: %w", err)
	}
	for _, c := range cov {
		rep.Coverage = append(rep.Coverage, wire.ReportShift{
			Shift: wire.Shift{ID: c.Shift, Name: c.Name, Start: c.Start, End: c.End},
			Sites: c.Sites, SitesMet: c.SitesMet, MinutesWatched: c.MinutesWatched})
		rep.Figures.CoverageSites += c.Sites
		rep.Figures.CoverageSitesMet += c.SitesMet
	}
	return nil
}
