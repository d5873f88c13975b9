package reports

import (
	"fmt"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// table is one breakdown of a report: a sheet of the XLSX, a section of
// the CSV and the PDF. Cells are strings or numbers (int, int64).
type table struct {
	name   string   // phrase key
	cols   []string // phrase keys
	widths []float64
	rows   [][]any
	// sum lists the columns the total row adds up (none: no total row).
	sum []int
	// rate, when set, is a column that is num over den of its row (the
	// compliance rate), empty when den is 0; the total row has its own.
	rate *ratio
}

type ratio struct{ col, num, den int }

// Titles of the periods.
func title(rep wire.Report) string { return phrases.In(rep.Lang, "report_"+rep.Period) }

// when is a time in the duty room's zone as reports give it.
func when(t time.Time, zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// periodText is the period as a line: its label, from and to.
func periodText(rep wire.Report) string {
	return fmt.Sprintf("%s（%s – %s %s）", rep.Label, when(rep.From, rep.TimeZone), when(rep.To, rep.TimeZone), rep.TimeZone)
}

// tables are the report's breakdowns in the order sheets and sections
// come: the summary first.
func tables(rep wire.Report) []table {
	lang := rep.Lang
	fig := rep.Figures
	summary := table{name: "report_summary", cols: []string{"report_figure", "report_value"}, widths: []float64{3, 1}, rows: [][]any{
		{phrases.In(lang, "report_period"), periodText(rep)},
		{phrases.In(lang, "report_sites_supervised"), fig.SitesSupervised},
		{phrases.In(lang, "report_checks_done"), fig.Checks},
		{phrases.In(lang, "report_findings"), fig.Findings},
		{phrases.In(lang, "report_ordered"), fig.OrderedToRectify},
		{phrases.In(lang, "report_rectified"), fig.Rectified},
		{phrases.In(lang, "report_verified"), fig.Verified},
		{phrases.In(lang, "report_overdue"), fig.Overdue},
		{phrases.In(lang, "report_notices"), fig.NoticesIssued},
		{phrases.In(lang, "report_coverage_met"), fig.CoverageSitesMet},
		{phrases.In(lang, "report_coverage_evaluated"), fig.CoverageSites},
		{phrases.In(lang, "report_made"), when(rep.Made, rep.TimeZone)},
	}}

	problems := table{name: "report_problems", cols: []string{"report_activity", "report_deviation", "report_count"},
		widths: []float64{2, 4, 1}, sum: []int{2}}
	for _, g := range rep.Problems {
		label := groupLabel(g, lang)
		if len(g.Deviations) == 0 {
			problems.rows = append(problems.rows, []any{label, "", g.Count})
		}
		for _, d := range g.Deviations {
			problems.rows = append(problems.rows, []any{label, groupLabel(d, lang), d.Count})
		}
	}

	sites := table{name: "report_sites", cols: []string{"report_district", "site", "report_checks_done", "report_findings",
		"report_ordered", "report_rectified", "report_verified", "report_overdue"},
		widths: []float64{1.5, 3, 1, 1, 1, 1, 1, 1}, sum: []int{2, 3, 4, 5, 6, 7}}
	for _, s := range rep.Sites {
		sites.rows = append(sites.rows, []any{s.District.In(lang), s.Name.In(lang), s.Checks, s.Findings,
			s.OrderedToRectify, s.Rectified, s.Verified, s.Overdue})
	}

	checks := table{name: "report_checks", cols: []string{"report_activity", "report_checks_done", "report_steps_observed",
		"report_steps_correct", "report_compliance"}, widths: []float64{2, 1, 1, 1, 1}, sum: []int{1, 2, 3},
		rate: &ratio{col: 4, num: 3, den: 2}}
	for _, c := range rep.Checks {
		checks.rows = append(checks.rows, []any{c.Activity, c.Checks, c.StepsObserved, c.StepsCorrect, nil})
	}

	coverage := table{name: "report_coverage", cols: []string{"report_shift_name", "report_start", "report_end",
		"report_sites_evaluated", "report_sites_met", "report_minutes_watched"}, widths: []float64{1.5, 2, 2, 1, 1, 1},
		sum: []int{3, 4, 5}}
	for _, c := range rep.Coverage {
		name := c.Shift.Name.In(lang)
		if name == "" {
			name = c.Shift.ID
		}
		coverage.rows = append(coverage.rows, []any{name, when(c.Shift.Start, rep.TimeZone), when(c.Shift.End, rep.TimeZone),
			c.Sites, c.SitesMet, c.MinutesWatched})
	}
	return []table{summary, problems, sites, checks, coverage}
}

// groupLabel is a group's label in lang, its key when it has none.
func groupLabel(g wire.ReportGroup, lang string) string {
	if g.Key == "-" && g.Label.In(lang) == "" {
		return phrases.In(lang, "report_free_text")
	}
	if s := bilingual.Text(g.Label).In(lang); s != "" {
		return s
	}
	return g.Key
}

// number is a cell's value as a number, and whether it is one.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// totals are the total row's sums and rate, computed (for CSV and PDF;
// the XLSX has formulas).
func (t table) totals() []any {
	row := make([]any, len(t.cols))
	for _, c := range t.sum {
		var s int64
		for _, r := range t.rows {
			n, _ := number(r[c])
			s += int64(n)
		}
		row[c] = s
	}
	if t.rate != nil {
		row[t.rate.col] = rateOf(row[t.rate.num], row[t.rate.den])
	}
	return row
}

// rateOf is num over den as a percentage with one decimal, "" when den is 0.
func rateOf(num, den any) string {
	n, _ := number(num)
	d, _ := number(den)
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f%%", 100*n/d)
}

// text is a cell as CSV and PDF give it.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// cells are a row's cells as text, its rate computed.
func (t table) cells(r []any) []string {
	out := make([]string, len(r))
	for i, v := range r {
		out[i] = text(v)
	}
	if t.rate != nil {
		out[t.rate.col] = rateOf(r[t.rate.num], r[t.rate.den])
	}
	return out
}
