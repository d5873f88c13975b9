package review_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/review"
)

// modelOrders are the list's orders over the fixture's models.
var modelOrders = func() []struct {
	sort string
	cmp  func(a, b model) int
} {
	rank := map[string]int{"critical": 0, "major": 1, "minor": 2}
	cmpObserved := func(a, b model) int {
		if c := a.observed.Compare(b.observed); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	}
	cmpDeadline := func(a, b model) int {
		if c := a.deadline.Compare(b.deadline); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	}
	return []struct {
		sort string
		cmp  func(a, b model) int
	}{
		{"-observed_at", func(a, b model) int { return -cmpObserved(a, b) }},
		{"observed_at", cmpObserved},
		{"deadline", cmpDeadline},
		{"-deadline", func(a, b model) int { return -cmpDeadline(a, b) }},
		{"severity", func(a, b model) int {
			if c := rank[a.severity] - rank[b.severity]; c != 0 {
				return c
			}
			return -cmpObserved(a, b)
		}},
		{"site", func(a, b model) int {
			if c := strings.Compare(a.site, b.site); c != 0 {
				return c
			}
			return -cmpObserved(a, b)
		}},
	}
}()

// Each way a page is found — walking the list's order, walking the
// findings not closed for overdue ones (INDEXED BY), reading the index of
// one value in order, reading a few outcomes and sorting them, SQLite's
// own choice — lists the same findings in the same order, page after
// page, in every sort.
func TestListPathsInEveryOrder(t *testing.T) {
	fx := newFixture(t, 150)
	cases := []listCase{
		{"overdue=1", func(m model) bool { return m.overdue() }},
		{"overdue=1&district=东城区", func(m model) bool { return m.overdue() && m.district == "东城区" }},
		{"overdue=1&template=ppe-doffing", func(m model) bool { return m.overdue() && m.template == "ppe-doffing" }},
		{"overdue=0", func(m model) bool { return !m.overdue() }},
		{"site=s2", func(m model) bool { return m.site == "s2" }},
		{"site=s2&reviewed=0", func(m model) bool { return m.site == "s2" && !m.reviewed }},
		{"deviation=gloves-first", func(m model) bool { return m.deviation == "gloves-first" }},
		{"status=open", func(m model) bool { return m.status == "open" }},
		{"reviewed=1", func(m model) bool { return m.reviewed }},
		{"outcome=none", func(m model) bool { return len(m.outcomes) == 0 }},
		{"outcome=suspend_order,notice_issued", func(m model) bool {
			return slices.Contains(m.outcomes, "suspend_order") || slices.Contains(m.outcomes, "notice_issued")
		}},
		{"repeat=10&site=s1", func(m model) bool { return fx.repeats(m, 10) && m.site == "s1" }},
	}
	checkLists(t, fx, cases, []int{3}, 4)
}

// The total is counted for the first page; the next pages carry it in
// their cursor, so a finding filed meanwhile changes the next first page's
// total, not the pages of a list already begun. A cursor given with
// another filter counts that filter's.
func TestTotalCountedOnTheFirstPage(t *testing.T) {
	fx := newFixture(t, 40)
	ctx := context.Background()
	yes := true
	f := review.Filter{Overdue: &yes, Now: now}
	first, err := fx.review.List(ctx, supervisor, f, review.Page{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if first.Next == "" || first.Total < 3 {
		t.Fatalf("the first page of overdue: total %d, next %q", first.Total, first.Next)
	}
	obs := now.Add(-30 * 24 * time.Hour)
	d := findings.Draft{ID: "late", Site: "s1", Camera: "cam1", Zone: "z", DeviationText: "late", Severity: "minor",
		ObservedAt: obs, FlaggedAt: obs, Deadline: obs.Add(time.Hour)}
	if _, _, err := fx.findings.Create(ctx, auth.Principal{Name: "duty1", Role: auth.RoleDuty}, d); err != nil {
		t.Fatal(err)
	}
	second, err := fx.review.List(ctx, supervisor, f, review.Page{Limit: 2, After: first.Next})
	if err != nil {
		t.Fatal(err)
	}
	if second.Total != first.Total {
		t.Errorf("the second page's total %d, the first's %d", second.Total, first.Total)
	}
	again, err := fx.review.List(ctx, supervisor, f, review.Page{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if again.Total != first.Total+1 {
		t.Errorf("a new first page counts %d, want %d with the finding filed", again.Total, first.Total+1)
	}
	other, err := fx.review.List(ctx, supervisor, review.Filter{Sites: []string{"s1"}, Now: now}, review.Page{Limit: 2, After: first.Next})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, m := range fx.models {
		if m.site == "s1" {
			want++
		}
	}
	if other.Total != want+1 {
		t.Errorf("a cursor of overdue given with site=s1: total %d, want s1's %d", other.Total, want+1)
	}
}
