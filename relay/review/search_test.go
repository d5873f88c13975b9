package review_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/runs"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// The search's documents are under their findings' rowids (migration
// 0022). Were the rowids renumbered (a VACUUM may, a dump read back does),
// the next process's first search finds it out and indexes everything
// again, so that a search keeps what it says, counted and listed; and a
// finding deleted takes its document with it, so that a search alone,
// counted by the index itself, counts only findings there are.
func TestSearchFollowsTheFindingsRowids(t *testing.T) {
	fx := newFixture(t, 60)
	ctx := context.Background()
	words := []string{"口罩", "dilut", "还是"}
	want := func(word string) []string {
		var ids []string
		for _, m := range fx.models {
			if containsAny(m.texts, word) {
				ids = append(ids, m.id)
			}
		}
		return ids
	}
	check := func(stage string, rv *review.Store) {
		t.Helper()
		for _, w := range words {
			f := review.Filter{Q: w, Now: now}
			page, err := rv.List(ctx, supervisor, f, review.Page{Limit: review.MaxLimit})
			if err != nil {
				t.Fatalf("%s, q=%s: %v", stage, w, err)
			}
			var got []string
			for _, it := range page.Items {
				got = append(got, it.ID)
			}
			slices.Sort(got)
			if exp := want(w); !slices.Equal(got, exp) || page.Total != len(exp) {
				t.Errorf("%s, q=%s: listed %v (total %d), want %v", stage, w, got, page.Total, exp)
			}
		}
		// The hours' rowids (review_hours) were made again with the index.
		checkHours(t, fx.db, stage)
	}
	check("indexed", fx.review)

	// Every finding to another rowid, as a renumbering would: nothing else
	// refers to the rowid (their references are by id).
	if _, err := fx.db.Exec(`UPDATE findings SET rowid = rowid + 1000`); err != nil {
		t.Fatal(err)
	}
	var moved int
	if err := fx.db.QueryRow(`SELECT count(*) FROM findings f WHERE f.rowid IN (SELECT docid FROM review_docs)`).Scan(&moved); err != nil {
		t.Fatal(err)
	}
	if moved != 0 {
		t.Fatalf("%d findings still under their documents' rowids: the test renumbered nothing", moved)
	}
	next, err := review.New(review.Config{DB: fx.db, Findings: fx.findings, Runs: runs.New(fx.db)})
	if err != nil {
		t.Fatal(err)
	}
	check("renumbered, the next process", next)

	// A finding deleted, with what refers to it.
	gone := want(words[0])[0]
	for _, q := range []string{`DELETE FROM run_findings WHERE finding_id = ?`, `DELETE FROM review_marks WHERE finding_id = ?`,
		`DELETE FROM review_comments WHERE finding_id = ?`, `DELETE FROM review_outcomes WHERE finding_id = ?`,
		`DELETE FROM finding_evidence WHERE finding_id = ?`, `DELETE FROM finding_actions WHERE finding_id = ?`,
		`DELETE FROM finding_events WHERE finding_id = ?`, `DELETE FROM findings WHERE id = ?`} {
		if _, err := fx.db.Exec(q, gone); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	fx.models = slices.DeleteFunc(fx.models, func(m model) bool { return m.id == gone })
	check("a finding deleted", next)
	// The kept number of findings (migration 0023) follows too.
	all, err := next.List(ctx, supervisor, review.Filter{Now: now}, review.Page{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != len(fx.models) {
		t.Errorf("a finding deleted: everything counts %d, want %d", all.Total, len(fx.models))
	}
}

// A search with other conditions keeps the same findings whether its
// matches are read by rowid (few) or the other conditions' index is read
// and each rowid tested (many), in every order.
func TestSearchWithOtherConditionsEitherWay(t *testing.T) {
	fx := newFixture(t, 120)
	cases := []listCase{
		{"q=口罩&district=东城区", func(m model) bool { return containsAny(m.texts, "口罩") && m.district == "东城区" }},
		{"q=dilut&overdue=0", func(m model) bool { return containsAny(m.texts, "dilution") && !m.overdue() }},
		{"q=还是&status=reopened&site=s1,s4", func(m model) bool {
			return containsAny(m.texts, "还是") && m.status == "reopened" && (m.site == "s1" || m.site == "s4")
		}},
		{"q=手套&severity=critical", func(m model) bool { return containsAny(m.texts, "手套") && m.severity == "critical" }},
	}
	// few: the matches read one by one or tested; candidates: how many of
	// the newest matches bound a page (3: too few to tell, mostly).
	for _, few := range []int{0, 1000} {
		review.SetFewMatches(t, few)
		for _, candidates := range []int{5000, 3} {
			review.SetMaxCandidates(t, candidates)
			t.Run(fmt.Sprintf("few=%d/candidates=%d", few, candidates), func(t *testing.T) {
				checkLists(t, fx, cases, []int{4}, 2)
			})
		}
	}
}

// A search alone, or at sites, is counted by the index and each page is
// bounded by the newest matches (matchBound). The fixture files its
// findings in no order of the times they were observed at, so that a
// bound taken from the newest rowids alone would lose findings filed
// early and observed late; every order and page size lists what the
// models keep.
func TestSearchAloneOrAtSitesFromTheIndex(t *testing.T) {
	fx := newFixture(t, 160)
	cases := []listCase{
		{"q=手套", func(m model) bool { return containsAny(m.texts, "手套") }},
		{"q=消毒液", func(m model) bool { return containsAny(m.texts, "消毒液") }},
		{"q=dilut", func(m model) bool { return containsAny(m.texts, "dilut") }},
		{"q=口罩&site=s1,s3", func(m model) bool { return containsAny(m.texts, "口罩") && (m.site == "s1" || m.site == "s3") }},
		{"q=手套&site_type=hotel", func(m model) bool { return containsAny(m.texts, "手套") && m.kind == "hotel" }},
		{"q=口罩&district=东城区&site_type=hotel", func(m model) bool {
			return containsAny(m.texts, "口罩") && m.district == "东城区" && m.kind == "hotel"
		}},
		{"q=手套&status=verified,rectified", func(m model) bool {
			return containsAny(m.texts, "手套") && (m.status == "verified" || m.status == "rectified")
		}},
		{"q=deviation&severity=major&officer=duty1,duty3", func(m model) bool {
			return containsAny(m.texts, "deviation") && m.severity == "major" && (m.observer == "duty1" || m.observer == "duty3")
		}},
		{"q=自由&template=-&deviation=-", func(m model) bool {
			return containsAny(m.texts, "自由") && m.template == "" && m.deviation == ""
		}},
		// The review's marks (migration 0028's marks column).
		{"q=手套&reviewed=0", func(m model) bool { return containsAny(m.texts, "手套") && !m.reviewed }},
		{"q=口罩&reviewed=1&outcome=any", func(m model) bool { return containsAny(m.texts, "口罩") && m.reviewed && len(m.outcomes) > 0 }},
		{"q=deviation&outcome=none", func(m model) bool { return containsAny(m.texts, "deviation") && len(m.outcomes) == 0 }},
		{"q=手套&outcome=rectify_order,case_filed", func(m model) bool {
			return containsAny(m.texts, "手套") && (slices.Contains(m.outcomes, "rectify_order") || slices.Contains(m.outcomes, "case_filed"))
		}},
		{"q=口罩&repeat=30", func(m model) bool { return containsAny(m.texts, "口罩") && fx.repeats(m, 30) }},
		{"q=口罩&repeat=7&district=东城区", func(m model) bool {
			return containsAny(m.texts, "口罩") && fx.repeats(m, 7) && m.district == "东城区"
		}},
		// Not in the index: a window no filter offers, and overdue (the
		// statuses not closed are named, the deadline tested).
		{"q=手套&repeat=10", func(m model) bool { return containsAny(m.texts, "手套") && fx.repeats(m, 10) }},
		{"q=手套&overdue=1", func(m model) bool { return containsAny(m.texts, "手套") && m.overdue() }},
		{"q=deviation&template=ppe-doffing&deviation=gloves-first,goggles-order&district=东城区,西城区", func(m model) bool {
			return containsAny(m.texts, "deviation") && m.template == "ppe-doffing" &&
				(m.deviation == "gloves-first" || m.deviation == "goggles-order") && (m.district == "东城区" || m.district == "西城区")
		}},
	}
	// Budget 0: no condition of several values is named in the match, each
	// is tested on the findings' side, as a condition of too many findings
	// is. Probe 3: the pages of every order but the latest first are walked
	// (walkMatches), as a million findings' are; 500, more than the
	// fixture's matches, they are not.
	for _, budget := range []int{300_000, 0} {
		for _, probe := range []int{500, 3} {
			review.SetMatchBudget(t, budget)
			review.SetDensityProbe(t, probe)
			t.Run(fmt.Sprintf("budget=%d/probe=%d", budget, probe), func(t *testing.T) { checkLists(t, fx, cases, []int{1, 4, 50}, 5) })
		}
	}

	// Nothing: a site's own word (its column's, migration 0027: s1 is
	// k7331) typed as a search, and a district with no sites.
	for _, query := range []string{"q=k7331", "q=K7331&site=s1", "q=口罩&district=海淀区"} {
		q, _ := url.ParseQuery(query)
		f, err := review.ParseFilter(q, now, shanghai)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		got, total := listAll(t, fx, f, review.Page{Limit: 10})
		if len(got) != 0 || total != 0 {
			t.Errorf("%s: listed %v (total %d), want none", query, got, total)
		}
	}

	// No writer moves a finding to another site; were one to, its
	// document's site word follows (review_fts_values_changed), as its
	// status's does, in the same statement.
	var moved string
	for _, m := range fx.models {
		if m.site == "s2" && containsAny(m.texts, "手套") {
			moved = m.id
			break
		}
	}
	if moved == "" {
		t.Fatal("the fixture has no finding at s2 with 手套")
	}
	if _, err := fx.db.Exec(`UPDATE findings SET site_id = 's5', status = 'rectified' WHERE id = ?`, moved); err != nil {
		t.Fatal(err)
	}
	fx.byID(moved).site, fx.byID(moved).status = "s5", "rectified"
	for _, site := range []string{"s2", "s5"} {
		q := url.Values{"q": {"手套"}, "site": {site}, "status": {"rectified"}}
		f, err := review.ParseFilter(q, now, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		want := fx.kept(func(m model) bool {
			return m.site == site && m.status == "rectified" && containsAny(m.texts, "手套")
		}, modelOrders[0].cmp)
		got, total := listAll(t, fx, f, review.Page{Sort: modelOrders[0].sort, Limit: 3})
		if !slices.Equal(got, want) || total != len(want) {
			t.Errorf("after a move, %s: listed %v (total %d), want %v", q.Encode(), got, total, want)
		}
	}

	// A supervisor marks findings reviewed, or not, and records outcomes,
	// after they were indexed: the marks' words follow (0019's triggers
	// keep the finding's columns, 0028's its document's).
	ctx := context.Background()
	marked := 0
	for i := range fx.models {
		m := &fx.models[i]
		if !containsAny(m.texts, "手套") || marked == 6 {
			continue
		}
		if _, err := fx.review.SetReviewed(ctx, supervisor, m.id, !m.reviewed); err != nil {
			t.Fatal(err)
		}
		m.reviewed = !m.reviewed
		if marked%2 == 0 {
			if err := fx.review.AddOutcome(ctx, supervisor, m.id, wire.Outcome{Kind: "suspend_order", DocNumber: "DOC-X"}); err != nil {
				t.Fatal(err)
			}
			m.outcomes = append(m.outcomes, "suspend_order")
		}
		marked++
	}
	checkLists(t, fx, []listCase{
		{"q=手套&reviewed=1", func(m model) bool { return containsAny(m.texts, "手套") && m.reviewed }},
		{"q=手套&reviewed=0", func(m model) bool { return containsAny(m.texts, "手套") && !m.reviewed }},
		{"q=手套&outcome=suspend_order", func(m model) bool {
			return containsAny(m.texts, "手套") && slices.Contains(m.outcomes, "suspend_order")
		}},
		{"q=手套&outcome=none", func(m model) bool { return containsAny(m.texts, "手套") && len(m.outcomes) == 0 }},
	}, []int{4}, 2)
}

// A site's district and type are words of its findings' documents
// (migration 0028), which follow when the site is given another district
// and type (relay.yaml, the admin's API), and a search with either is
// counted by the index alone.
func TestSearchFollowsTheSitesDistrictAndType(t *testing.T) {
	fx := newFixture(t, 120)
	ctx := context.Background()
	cases := []listCase{
		{"q=口罩&district=海淀区", func(m model) bool { return containsAny(m.texts, "口罩") && m.district == "海淀区" }},
		{"q=口罩&district=西城区", func(m model) bool { return containsAny(m.texts, "口罩") && m.district == "西城区" }},
		{"q=手套&site_type=other", func(m model) bool { return containsAny(m.texts, "手套") && m.kind == "other" }},
		{"q=手套&site_type=dormitory", func(m model) bool { return containsAny(m.texts, "手套") && m.kind == "dormitory" }},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		f, err := review.ParseFilter(q, now, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		count, _, _, _, err := fx.review.Queries(ctx, f, review.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(count, "SELECT count(*) FROM review_fts") {
			t.Errorf("%s: not counted by the index alone: %s", c.query, count)
		}
	}
	// Before: no site in 海淀区; after, s3 is its one site, of type other,
	// and no site is a dormitory.
	checkLists(t, fx, cases[1:], []int{3}, 2)

	if err := fx.sites.PutSiteInfo(ctx, store.Site{ID: "s3", District: bilingual.New("海淀区", "Haidian"),
		Name: bilingual.New("站点s3", "Site s3"), TimeZone: "Asia/Shanghai", Kind: "other"}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range fx.models {
		if fx.models[i].site == "s3" {
			fx.models[i].district, fx.models[i].kind = "海淀区", "other"
			n++
		}
	}
	if n == 0 {
		t.Fatal("the fixture has no finding at s3")
	}
	checkLists(t, fx, cases[:3], []int{3}, 2)
	q, _ := url.ParseQuery(cases[3].query)
	f, err := review.ParseFilter(q, now, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	if got, total := listAll(t, fx, f, review.Page{Limit: 10}); len(got) != 0 || total != 0 {
		t.Errorf("%s, s3 no longer a dormitory: listed %v (total %d), want none", cases[3].query, got, total)
	}
}

// The deepest match a filter can make: a search's 16 words and six
// conditions, three of 128 values (the statuses and severities there are
// fewer), which FTS4's tree of depth 12 holds; a condition of more values
// is left to the findings' columns.
func TestSearchDeepestMatch(t *testing.T) {
	fx := newFixture(t, 60)
	words := strings.Repeat("口罩 ", 16)
	many := func(n int, firsts ...string) string {
		vs := slices.Clone(firsts)
		for i := len(vs); i < n; i++ {
			vs = append(vs, fmt.Sprintf("x%d", i))
		}
		return strings.Join(vs, ",")
	}
	for _, n := range []int{128, 200} {
		q := url.Values{"q": {words}, "site": {many(n, "s1", "s2", "s3", "s4", "s5", "s6")},
			"status": {"open,reopened,rectified,acknowledged"}, "severity": {"major,minor"},
			"template":  {many(n, "ppe-doffing", "disinfection", "-")},
			"deviation": {many(n, "gloves-first", "no-hand-hygiene", "goggles-order", "wrong-dilution", "skipped-surface", "-")},
			"officer":   {many(n, "duty1", "duty2", "duty3")}}
		f, err := review.ParseFilter(q, now, shanghai)
		if err != nil {
			t.Fatalf("%d values: %v", n, err)
		}
		want := fx.kept(func(m model) bool {
			return containsAny(m.texts, "口罩") && m.status != "verified" && m.status != "withdrawn" && m.severity != "critical"
		}, modelOrders[0].cmp)
		if len(want) < 3 {
			t.Fatalf("the fixture keeps %d findings: too few to tell", len(want))
		}
		got, total := listAll(t, fx, f, review.Page{Limit: 2})
		if !slices.Equal(got, want) || total != len(want) {
			t.Errorf("%d values: listed %v (total %d), want %v", n, got, total, want)
		}
	}
}

// A search in a period: its matches are read between the rowids of the
// period's findings (matchRange), and, when those rowids are the period's
// findings and no other (findings filed in the order observed), counted
// by the index and paged from its end. Findings filed in no order, and
// one filed late into a period that was whole, are listed the same.
func TestSearchInAPeriod(t *testing.T) {
	cases := []listCase{
		{"q=手套", func(m model) bool { return containsAny(m.texts, "手套") }},
		{"q=口罩&district=东城区,西城区", func(m model) bool {
			return containsAny(m.texts, "口罩") && (m.district == "东城区" || m.district == "西城区")
		}},
		{"q=deviation&status=open,acknowledged,reopened", func(m model) bool {
			return containsAny(m.texts, "deviation") && (m.status == "open" || m.status == "acknowledged" || m.status == "reopened")
		}},
		{"q=deviation&overdue=0", func(m model) bool { return containsAny(m.texts, "deviation") && !m.overdue() }},
	}
	// Days on the duty room's clock, [from 00:00, to+1 00:00) in Shanghai,
	// whole hours (review_hours), and a period of instants that are not,
	// whose findings are read.
	periods := []struct {
		from, to   string
		start, end time.Time
	}{
		{"2026-11-28", "2026-11-30", time.Date(2026, 11, 28, 0, 0, 0, 0, shanghai), time.Date(2026, 12, 1, 0, 0, 0, 0, shanghai)},
		{"2026-11-28T03:30:00%2B08:00", "2026-11-30T21:10:00Z", time.Date(2026, 11, 28, 3, 30, 0, 0, shanghai), time.Date(2026, 11, 30, 21, 10, 0, 0, time.UTC)},
		// Half a second past whole hours: the ordered fixture has findings
		// at 21:00:00 and 23:00:00 exactly, the first left out, the second
		// in, which review_hours' hours cannot tell.
		{"2026-11-26T21:00:00.5Z", "2026-11-29T23:00:00.5Z", time.Date(2026, 11, 26, 21, 0, 0, 5e8, time.UTC), time.Date(2026, 11, 29, 23, 0, 0, 5e8, time.UTC)},
	}

	// byIndex: whether the first case is counted by the index alone.
	check := func(t *testing.T, fx *fixture, byIndex bool) {
		for _, p := range periods {
			inPeriod := func(m model) bool { return !m.observed.Before(p.start) && m.observed.Before(p.end) }
			var inIt []listCase
			for _, c := range cases {
				inIt = append(inIt, listCase{c.query + "&from=" + p.from + "&to=" + p.to, func(m model) bool { return inPeriod(m) && c.keep(m) }})
			}
			q, _ := url.ParseQuery(inIt[0].query)
			f, err := review.ParseFilter(q, now, shanghai)
			if err != nil {
				t.Fatal(err)
			}
			count, _, _, _, err := fx.review.Queries(context.Background(), f, review.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.HasPrefix(count, "SELECT count(*) FROM review_fts"); got != byIndex {
				t.Errorf("%s: counted by the index alone %v, want %v: %s", inIt[0].query, got, byIndex, count)
			}
			checkLists(t, fx, inIt, []int{1, 4}, 3)
		}
	}
	t.Run("filed in no order", func(t *testing.T) { check(t, newFixture(t, 800), false) })
	t.Run("filed in order", func(t *testing.T) {
		fx := newOrderedFixture(t, 240)
		check(t, fx, true)
		// One filed late, observed in the period: its rowid is past the
		// findings after the period's, which are no longer the period's
		// rowids alone.
		late := model{id: "late", site: "s1", district: "东城区", kind: "hotel", severity: "major", observer: "duty1",
			status: wire.StatusOpen, observed: time.Date(2026, 11, 29, 9, 0, 0, 0, shanghai), texts: []string{"deviation 手套 口罩", "late"}}
		late.deadline = late.observed.Add(time.Hour)
		d := findings.Draft{ID: late.id, Site: late.site, Camera: "cam1", Zone: "z", DeviationText: late.texts[0], Severity: late.severity,
			Note: late.texts[1], ObservedAt: late.observed, FlaggedAt: late.observed, Deadline: late.deadline}
		if _, _, err := fx.findings.Create(context.Background(), auth.Principal{Name: late.observer, Role: auth.RoleDuty}, d); err != nil {
			t.Fatal(err)
		}
		fx.models = append(fx.models, late)
		check(t, fx, false)
	})
}

// A finding's marks change (0019's triggers keep its columns as its
// review's rows change): its document's words follow in the same
// transaction (migration 0028), before the finding is indexed again for
// the change's event.
func TestSearchMarksFollowInTheTransaction(t *testing.T) {
	fx := newFixture(t, 40)
	if _, err := fx.review.List(context.Background(), supervisor, review.Filter{Q: "口罩", Now: now}, review.Page{}); err != nil {
		t.Fatal(err) // indexed
	}
	var id string
	for _, m := range fx.models {
		if !m.reviewed {
			id = m.id
			break
		}
	}
	if id == "" {
		t.Fatal("the fixture has no finding not reviewed")
	}
	words := func() string {
		var w string
		if err := fx.db.QueryRow(`SELECT d.marks FROM review_docs d JOIN findings f ON f.rowid = d.docid WHERE f.id = ?`, id).Scan(&w); err != nil {
			t.Fatal(err)
		}
		return w
	}
	indexed := func(word string) bool {
		var n int
		if err := fx.db.QueryRow(`SELECT count(*) FROM review_fts WHERE review_fts MATCH ? AND docid = (SELECT rowid FROM findings WHERE id = ?)`,
			"marks:"+word, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if w := words(); !strings.HasPrefix(w, "r0 ") || !indexed("r0") || indexed("r1") {
		t.Fatalf("before the mark: marks %q, r0 indexed %v, r1 %v", w, indexed("r0"), indexed("r1"))
	}
	if _, err := fx.db.Exec(`INSERT INTO review_marks (finding_id, reviewed_by, reviewed_at) VALUES (?, 'sup', '2026-12-01T00:00:00.000Z')`, id); err != nil {
		t.Fatal(err)
	}
	if w := words(); !strings.HasPrefix(w, "r1 ") || !indexed("r1") || indexed("r0") {
		t.Errorf("after the mark: marks %q, r1 indexed %v, r0 %v", w, indexed("r1"), indexed("r0"))
	}
}
