package review_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/runs"
	"github.com/qianliyan/qianliyan/relay/seed"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// The queries the kept columns of migration 0019 replaced, as they were:
// the definitions the columns must answer alike.
const (
	// a repeat: another finding of the same deviation at the same site
	// observed within N days before or after, a withdrawn one none.
	oldRepeat = `(f.deviation <> '' AND EXISTS (SELECT 1 FROM findings g
		WHERE g.site_id = f.site_id AND g.deviation = f.deviation AND g.rowid <> f.rowid
		AND g.observed_at >= strftime('%Y-%m-%dT%H:%M:%fZ', f.observed_at, ?)
		AND g.observed_at <= strftime('%Y-%m-%dT%H:%M:%fZ', f.observed_at, ?)
		AND g.rowid NOT IN (SELECT rowid FROM findings WHERE status = 'withdrawn')))`
	oldReviewed   = `f.id IN (SELECT finding_id FROM review_marks)`
	oldUnreviewed = `f.id NOT IN (SELECT finding_id FROM review_marks)`
	oldAnyOutcome = `f.id IN (SELECT finding_id FROM review_outcomes)`
	oldNoOutcome  = `f.id NOT IN (SELECT finding_id FROM review_outcomes)`
)

func oldOutcomes(kinds ...string) (string, []any) {
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	return `f.id IN (SELECT finding_id FROM review_outcomes WHERE kind IN (?` + strings.Repeat(", ?", len(kinds)-1) + `))`, args
}

// The kept columns keep the filters' results what the queries they
// replaced gave, on a seeded record (its rows written with the triggers
// on) and after the record changes through the owners' own calls:
// findings filed next to others, withdrawn, their reviews marked and taken
// back, outcomes recorded.
func TestKeptColumnsAnswerAsTheOldQueries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	// Few sites and days: most findings have a repeat, at every distance.
	if _, err := seed.Write(ctx, dir, seed.Options{Sites: 6, Findings: 2500, Days: 40, Seed: 7, Now: clock}); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenDatabase(ctx, filepath.Join(dir, seed.DataDir, "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := func() time.Time { return clock }
	fs, err := findings.New(findings.Config{DB: db, Sites: store.New(db), EvidenceDir: filepath.Join(dir, seed.DataDir, "evidence"), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := review.New(review.Config{DB: db, Findings: fs, Runs: runs.New(db), Now: now})
	if err != nil {
		t.Fatal(err)
	}

	compare := func(stage string) {
		t.Helper()
		type kase struct {
			name   string
			filter review.Filter
			old    string
			args   []any
		}
		yes, no := true, false
		cases := []kase{
			{"reviewed", review.Filter{Reviewed: &yes}, oldReviewed, nil},
			{"not reviewed", review.Filter{Reviewed: &no}, oldUnreviewed, nil},
			{"any outcome", review.Filter{Outcomes: []string{review.OutcomeAny}}, oldAnyOutcome, nil},
			{"no outcome", review.Filter{Outcomes: []string{review.OutcomeNone}}, oldNoOutcome, nil},
		}
		for _, kinds := range [][]string{{wire.OutcomeSuspendOrder}, {wire.OutcomeNoticeIssued, wire.OutcomeCaseFiled}, review.OutcomeKinds} {
			q, a := oldOutcomes(kinds...)
			cases = append(cases, kase{"outcome " + strings.Join(kinds, ","), review.Filter{Outcomes: kinds}, q, a})
		}
		for _, days := range []int{1, 2, 3, 7, 30, 365} {
			cases = append(cases, kase{fmt.Sprintf("repeat %d", days), review.Filter{Repeat: days}, oldRepeat,
				[]any{fmt.Sprintf("-%d days", days), fmt.Sprintf("+%d days", days)}})
		}
		for _, c := range cases {
			where, args := rv.Where(c.filter)
			got := ids(t, db, where, args)
			want := ids(t, db, c.old, c.args)
			if len(want) == 0 {
				t.Errorf("%s, %s: the old query keeps nothing: the case tests nothing", stage, c.name)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s, %s: kept columns keep %d findings, the old query %d; first differences %v",
					stage, c.name, len(got), len(want), firstDiff(got, want))
			}
		}
		checkGaps(t, db, stage)
		var kept, counted int
		if err := db.QueryRow(`SELECT findings FROM review_counts WHERE id = 1`).Scan(&kept); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT count(*) FROM findings`).Scan(&counted); err != nil {
			t.Fatal(err)
		}
		if kept != counted {
			t.Errorf("%s: review_counts keeps %d findings, there are %d", stage, kept, counted)
		}
		var perSite int
		if err := db.QueryRow(`SELECT count(*) FROM (SELECT site_id, count(*) AS n FROM findings GROUP BY site_id) f
			FULL JOIN review_site_counts c USING (site_id) WHERE coalesce(f.n, 0) <> coalesce(c.findings, 0)`).Scan(&perSite); err != nil {
			t.Fatal(err)
		}
		if perSite != 0 {
			t.Errorf("%s: review_site_counts keeps another number than count(*) for %d sites", stage, perSite)
		}
		var perValue int
		if err := db.QueryRow(`SELECT count(*) FROM (
				SELECT 'status' AS col, status AS value, count(*) AS n FROM findings GROUP BY status
				UNION ALL SELECT 'severity', severity, count(*) FROM findings GROUP BY severity
				UNION ALL SELECT 'template', template_id, count(*) FROM findings GROUP BY template_id
				UNION ALL SELECT 'deviation', deviation, count(*) FROM findings GROUP BY deviation
				UNION ALL SELECT 'officer', observer, count(*) FROM findings GROUP BY observer) f
			FULL JOIN review_value_counts c USING (col, value) WHERE coalesce(f.n, 0) <> coalesce(c.findings, 0)`).Scan(&perValue); err != nil {
			t.Fatal(err)
		}
		if perValue != 0 {
			t.Errorf("%s: review_value_counts keeps another number than count(*) for %d values", stage, perValue)
		}
		checkHours(t, db, stage)
		compareSiteTotals(t, db, rv, stage)
	}
	compare("seeded")

	// Change the record: file findings beside others (the same site and
	// deviation, minutes and days apart), withdraw some, take reviews back,
	// record outcomes.
	// Findings not closed, so that each may be withdrawn.
	var picked []struct{ id, site, tpl, dev, at, status string }
	rows, err := db.QueryContext(ctx, `SELECT id, site_id, template_id, deviation, observed_at, status FROM findings
		WHERE deviation <> '' AND status NOT IN ('verified', 'withdrawn') ORDER BY id LIMIT 60`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p struct{ id, site, tpl, dev, at, status string }
		if err := rows.Scan(&p.id, &p.site, &p.tpl, &p.dev, &p.at, &p.status); err != nil {
			t.Fatal(err)
		}
		picked = append(picked, p)
	}
	rows.Close()
	if len(picked) < 60 {
		t.Fatalf("the seed has %d findings with a deviation", len(picked))
	}
	duty := auth.Principal{Name: seed.DutyName, Role: auth.RoleDuty}
	sup := auth.Principal{Name: seed.SupervisorName, Role: auth.RoleSupervisor}
	for i, p := range picked {
		at, err := time.Parse(time.RFC3339Nano, p.at)
		if err != nil {
			t.Fatal(err)
		}
		switch i % 4 {
		case 0: // a new finding near it
			offset := []time.Duration{time.Minute, -36 * time.Hour, 3*24*time.Hour + time.Millisecond, -7 * 24 * time.Hour}[i/4%4]
			obs := at.Add(offset)
			d := findings.Draft{ID: fmt.Sprintf("kept-%d", i), Site: p.site, Camera: "cam-1", Zone: "z", TemplateID: p.tpl,
				Deviation: p.dev, DeviationText: "again", Severity: "minor", ObservedAt: obs, FlaggedAt: obs, Deadline: obs.Add(48 * time.Hour)}
			if _, _, err := fs.Create(ctx, duty, d); err != nil {
				t.Fatalf("filing beside %s: %v", p.id, err)
			}
		case 1: // withdrawn
			if _, err := fs.Act(ctx, duty, p.id, findings.Request{ActionID: "kept-withdraw-" + p.id, Action: wire.ActWithdraw, Note: "误报"}); err != nil {
				t.Fatalf("withdrawing %s: %v", p.id, err)
			}
		case 2: // the review marked, or taken back
			var marked bool
			if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM review_marks WHERE finding_id = ?)`, p.id).Scan(&marked); err != nil {
				t.Fatal(err)
			}
			if _, err := rv.SetReviewed(ctx, sup, p.id, !marked); err != nil {
				t.Fatal(err)
			}
		case 3: // an outcome
			kind := review.OutcomeKinds[i/4%len(review.OutcomeKinds)]
			if err := rv.AddOutcome(ctx, sup, p.id, wire.Outcome{Kind: kind, DocNumber: "KEPT-" + p.id}); err != nil {
				t.Fatal(err)
			}
		}
	}
	compare("changed")
}

// compareSiteTotals: the list's total of filters on sites, alone or with
// a negative condition (counted from the sites' kept numbers), is the
// number of findings the filter's condition keeps.
func compareSiteTotals(t *testing.T, db *sql.DB, rv *review.Store, stage string) {
	t.Helper()
	var district, kind, site string
	if err := db.QueryRow(`SELECT district_zh, kind, id FROM sites WHERE id IN (SELECT site_id FROM findings) ORDER BY id LIMIT 1`).Scan(&district, &kind, &site); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	sup := auth.Principal{Name: seed.SupervisorName, Role: auth.RoleSupervisor}
	for _, c := range []struct {
		name string
		f    review.Filter
	}{
		{"district", review.Filter{Districts: []string{district}}},
		{"site type", review.Filter{SiteTypes: []string{kind}}},
		{"site and an unknown site", review.Filter{Sites: []string{site, "no-such-site"}}},
		{"district and site type", review.Filter{Districts: []string{district}, SiteTypes: []string{kind}}},
		{"unknown site", review.Filter{Sites: []string{"no-such-site"}}},
		{"site type, not overdue", review.Filter{SiteTypes: []string{kind}, Overdue: &no}},
		{"district, not reviewed", review.Filter{Districts: []string{district}, Reviewed: &no}},
		{"site, no outcome", review.Filter{Sites: []string{site}, Outcomes: []string{review.OutcomeNone}}},
		{"site type, overdue (not kept)", review.Filter{SiteTypes: []string{kind}, Overdue: &yes}},
	} {
		c.f.Now = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		where, args := rv.Where(c.f)
		var want int
		if err := db.QueryRow(`SELECT count(*) FROM findings f WHERE `+where, args...).Scan(&want); err != nil {
			t.Fatal(err)
		}
		page, err := rv.List(context.Background(), sup, c.f, review.Page{})
		if err != nil {
			t.Fatalf("%s, %s: %v", stage, c.name, err)
		}
		if page.Total != want {
			t.Errorf("%s, %s: the list's total %d, count(*) %d", stage, c.name, page.Total, want)
		}
	}
}

// ids are the findings where keeps, in order.
func ids(t *testing.T, db *sql.DB, where string, args []any) []string {
	t.Helper()
	rows, err := db.Query(`SELECT f.id FROM findings f WHERE `+where+` ORDER BY f.id`, args...)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// firstDiff names a few findings in one list and not the other.
func firstDiff(a, b []string) []string {
	var out []string
	for _, id := range a {
		if !slices.Contains(b, id) {
			out = append(out, "+"+id)
		}
		if len(out) == 5 {
			return out
		}
	}
	for _, id := range b {
		if !slices.Contains(a, id) {
			out = append(out, "-"+id)
		}
		if len(out) == 10 {
			break
		}
	}
	return out
}

// checkGaps compares every finding's repeat_gap_ms with the gap worked out
// here from the rows: the nearest other finding of its deviation at its
// site, withdrawn ones not counting. Sharper than the old query's yes or
// no at a few N, where a dense record hides a wrong gap.
func checkGaps(t *testing.T, db *sql.DB, stage string) {
	t.Helper()
	type row struct {
		id, group, status string
		at                time.Time
		kept              sql.NullInt64
	}
	rows, err := db.Query(`SELECT id, site_id || '/' || deviation, deviation, status, observed_at, repeat_gap_ms FROM findings`)
	if err != nil {
		t.Fatal(err)
	}
	var all []row
	groups := map[string][]int{}
	for rows.Next() {
		var r row
		var dev, at string
		if err := rows.Scan(&r.id, &r.group, &dev, &r.status, &at, &r.kept); err != nil {
			t.Fatal(err)
		}
		if r.at, err = time.Parse(time.RFC3339Nano, at); err != nil {
			t.Fatal(err)
		}
		if dev == "" {
			r.group = ""
		}
		all = append(all, r)
		groups[r.group] = append(groups[r.group], len(all)-1)
	}
	rows.Close()
	wrong := 0
	for i, r := range all {
		want := sql.NullInt64{}
		if r.group != "" {
			for _, j := range groups[r.group] {
				o := all[j]
				if j == i || o.status == string(wire.StatusWithdrawn) {
					continue
				}
				d := o.at.Sub(r.at).Milliseconds()
				if d < 0 {
					d = -d
				}
				if !want.Valid || d < want.Int64 {
					want = sql.NullInt64{Int64: d, Valid: true}
				}
			}
		}
		if r.kept != want {
			if wrong++; wrong <= 5 {
				t.Errorf("%s: %s (%s, %s) has repeat_gap_ms %v, want %v", stage, r.id, r.group, r.status, r.kept, want)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%s: %d of %d findings' repeat_gap_ms wrong", stage, wrong, len(all))
	}
}

// checkHours compares review_hours (migration 0027) with the findings:
// each hour's number of findings, and rowids that bound its findings'.
func checkHours(t *testing.T, db *sql.DB, stage string) {
	t.Helper()
	var wrong int
	if err := db.QueryRow(`SELECT count(*) FROM (SELECT unixepoch(observed_at) / 3600 AS hour, count(*) AS n, min(rowid) AS lo, max(rowid) AS hi
			FROM findings GROUP BY 1) f
		FULL JOIN review_hours h USING (hour)
		WHERE coalesce(f.n, 0) <> coalesce(h.findings, 0) OR (f.n > 0 AND (h.lo > f.lo OR h.hi < f.hi))`).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%s: review_hours keeps another number, or rowids not bounding its findings', for %d hours", stage, wrong)
	}
}
