package review_test

import (
	"context"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/runs"
)

// Every filter keeps exactly the findings it says, whichever way it is
// counted: the list page by page, its total, and a count on Where.
func TestFilterKeepsWhatItSays(t *testing.T) {
	fx := newFixture(t, 240)
	day := func(offset int) time.Time { // the duty room's day, offset days before now's
		d := now.In(shanghai)
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, shanghai).AddDate(0, 0, offset)
	}
	cases := []struct {
		query string
		keep  func(model) bool
	}{
		{"", func(model) bool { return true }},
		{"district=东城区", func(m model) bool { return m.district == "东城区" }},
		{"district=东城区,朝阳区&overdue=1", func(m model) bool { return m.district != "西城区" && m.overdue() }},
		{"overdue=0", func(m model) bool { return !m.overdue() }},
		{"site=s1&site=s3", func(m model) bool { return m.site == "s1" || m.site == "s3" }},
		{"site_type=hotel", func(m model) bool { return m.kind == "hotel" }},
		{"template=ppe-doffing", func(m model) bool { return m.template == "ppe-doffing" }},
		{"template=-", func(m model) bool { return m.template == "" }},
		{"template=-,disinfection&severity=critical", func(m model) bool {
			return (m.template == "" || m.template == "disinfection") && m.severity == "critical"
		}},
		{"deviation=gloves-first", func(m model) bool { return m.deviation == "gloves-first" }},
		{"status=rectified,reopened", func(m model) bool { return m.status == "rectified" || m.status == "reopened" }},
		{"officer=duty2&severity=major,minor", func(m model) bool { return m.observer == "duty2" && m.severity != "critical" }},
		{"reviewed=1", func(m model) bool { return m.reviewed }},
		{"reviewed=0", func(m model) bool { return !m.reviewed }},
		{"reviewed=0&status=open", func(m model) bool { return !m.reviewed && m.status == "open" }},
		{"outcome=any", func(m model) bool { return len(m.outcomes) > 0 }},
		{"outcome=none", func(m model) bool { return len(m.outcomes) == 0 }},
		{"outcome=rectify_order,case_filed", func(m model) bool {
			return slices.Contains(m.outcomes, "rectify_order") || slices.Contains(m.outcomes, "case_filed")
		}},
		{"repeat=7", func(m model) bool { return fx.repeats(m, 7) }},
		{"repeat=30&district=西城区", func(m model) bool { return fx.repeats(m, 30) && m.district == "西城区" }},
		{"from=" + day(-10).Format(time.DateOnly), func(m model) bool { return !m.observed.Before(day(-10)) }},
		{"from=" + day(-20).Format(time.DateOnly) + "&to=" + day(-10).Format(time.DateOnly), func(m model) bool {
			return !m.observed.Before(day(-20)) && m.observed.Before(day(-9))
		}},
		{"to=" + url.QueryEscape(now.Add(-240*time.Hour).Format(time.RFC3339)), func(m model) bool { return m.observed.Before(now.Add(-240 * time.Hour)) }},
		{"q=口罩", func(m model) bool { return containsAny(m.texts, "口罩") }},
		{"q=佩戴口罩", func(m model) bool { return containsAny(m.texts, "佩戴口罩") }},
		{"q=罩", func(m model) bool { return containsAny(m.texts, "罩") }},
		{"q=新手套", func(m model) bool { return containsAny(m.texts, "新手套") }},
		{"q=GOGGLES", func(m model) bool { return containsAny(m.texts, "goggles") }},
		{"q=dilut", func(m model) bool { return containsAny(m.texts, "dilution") }},
		{"q=" + url.QueryEscape("现场复查 follow"), func(m model) bool { return containsAny(m.texts, "现场复查") }},
		{"q=还是&status=reopened", func(m model) bool { return containsAny(m.texts, "还是") && m.status == "reopened" }},
		{"q=dispenser&overdue=0&reviewed=0", func(m model) bool {
			return containsAny(m.texts, "dispenser") && !m.overdue() && !m.reviewed
		}},
		{"q=没有这个词", func(model) bool { return false }},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			q, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			f, err := review.ParseFilter(q, now, shanghai)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			var want []string
			for _, m := range fx.models {
				if c.keep(m) {
					want = append(want, m.id)
				}
			}
			got, total := listAll(t, fx, f, review.Page{Sort: "observed_at", Limit: 17})
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("listed %d findings, want %d\n got %v\nwant %v", len(got), len(want), got, want)
			}
			if total != len(want) {
				t.Errorf("total %d, want %d", total, len(want))
			}
			where, args := fx.review.Where(f)
			var n int
			if err := fx.db.QueryRow(`SELECT count(*) FROM findings f WHERE `+where, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != len(want) {
				t.Errorf("a count on Where says %d, want %d", n, len(want))
			}
			back, err := review.ParseFilter(f.Query(), now, shanghai)
			if err != nil {
				t.Fatalf("the filter's own query %q does not read back: %v", f.Query().Encode(), err)
			}
			if !reflect.DeepEqual(back, f) {
				t.Errorf("Query %q reads back as %+v, not %+v", f.Query().Encode(), back, f)
			}
		})
	}
	if len(fx.models) < 200 {
		t.Fatal("the fixture is too small to tell anything")
	}
}

func containsAny(texts []string, word string) bool {
	return slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(word)) })
}

// listCase is a filter, as query parameters, and which of the fixture's
// findings it keeps.
type listCase struct {
	query string
	keep  func(model) bool
}

// checkLists lists every page of each case in every order, each limit a
// page, against what the models keep, which must be at least least
// findings for a case to tell anything.
func checkLists(t *testing.T, fx *fixture, cases []listCase, limits []int, least int) {
	t.Helper()
	for _, c := range cases {
		q, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		f, err := review.ParseFilter(q, now, shanghai)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		for _, o := range modelOrders {
			want := fx.kept(c.keep, o.cmp)
			if len(want) < least {
				t.Fatalf("%s: the fixture keeps %d findings: too few to tell", c.query, len(want))
			}
			for _, limit := range limits {
				got, total := listAll(t, fx, f, review.Page{Sort: o.sort, Limit: limit})
				if !slices.Equal(got, want) || total != len(want) {
					t.Errorf("%s, %s, %d a page: listed %v (total %d), want %v", c.query, o.sort, limit, got, total, want)
				}
			}
		}
	}
}

// listAll reads every page of the list, returning the ids in the order
// listed (no id twice) and the total the first page gave.
func listAll(t *testing.T, fx *fixture, f review.Filter, p review.Page) ([]string, int) {
	t.Helper()
	var ids []string
	total := -1
	for range 1000 {
		page, err := fx.review.List(context.Background(), supervisor, f, p)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if total < 0 {
			total = page.Total
		} else if page.Total != total {
			t.Fatalf("the total changed from %d to %d between pages", total, page.Total)
		}
		if len(page.Items) > p.Limit {
			t.Fatalf("a page of %d items, limit %d", len(page.Items), p.Limit)
		}
		for _, it := range page.Items {
			if slices.Contains(ids, it.ID) {
				t.Fatalf("%s listed twice", it.ID)
			}
			ids = append(ids, it.ID)
		}
		if page.Next == "" {
			return ids, total
		}
		p.After = page.Next
	}
	t.Fatal("the pages never end")
	return nil, 0
}

// Every order lists every finding once, page after page, in that order.
func TestListPagesInEachOrder(t *testing.T) {
	fx := newFixture(t, 90)
	cases := modelOrders
	for _, c := range cases {
		t.Run(c.sort, func(t *testing.T) {
			models := slices.Clone(fx.models)
			slices.SortFunc(models, c.cmp)
			var want []string
			for _, m := range models {
				want = append(want, m.id)
			}
			for _, limit := range []int{1, 7, 200} {
				got, total := listAll(t, fx, review.Filter{}, review.Page{Sort: c.sort, Limit: limit})
				if !slices.Equal(got, want) || total != len(want) {
					t.Errorf("limit %d: listed %v (total %d), want %v", limit, got, total, want)
				}
			}
		})
	}
}

// Bad filters and pages are refused naming the parameter at fault.
func TestBadFilterRefused(t *testing.T) {
	cases := []struct{ query, field string }{
		{"colour=red", "colour"},
		{"from=2026-13-01", "from"},
		{"from=yesterday", "from"},
		{"to=2026-11-01&from=2026-11-05", "to"},
		{"from=2026-11-01&from=2026-11-02", "from"},
		{"severity=bad", "severity"},
		{"status=closed", "status"},
		{"site_type=castle", "site_type"},
		{"outcome=any,case_filed", "outcome"},
		{"outcome=fined", "outcome"},
		{"overdue=yes", "overdue"},
		{"reviewed=2", "reviewed"},
		{"repeat=0", "repeat"},
		{"repeat=366", "repeat"},
		{"repeat=x", "repeat"},
		{"q=" + strings.Repeat("长", 201), "q"},
		{"q=" + url.QueryEscape("!!! ***"), "q"},
		{"site=" + strings.Repeat("s", 201), "site"},
		{"sort=colour", "sort"},
	}
	for _, c := range cases {
		t.Run(c.query[:min(len(c.query), 40)], func(t *testing.T) {
			q, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = review.ParseFilter(q, now, shanghai)
			fe := fault.As(err)
			if fe == nil || fe.Kind != fault.Invalid || fe.Field != c.field {
				t.Errorf("got %v, want a 400 naming %s", err, c.field)
			}
		})
	}
	for _, c := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=201", "limit"}, {"limit=x", "limit"}, {"after=notacursor", "after"},
		{"sort=site&after=" + cursorOf(t, "-observed_at"), "after"},
	} {
		q, _ := url.ParseQuery(c.query)
		_, err := review.ParsePage(q)
		if fe := fault.As(err); fe == nil || fe.Field != c.field {
			t.Errorf("%s: got %v, want a 400 naming %s", c.query, err, c.field)
		}
	}
}

// cursorOf is a real cursor of the list sorted by sort.
func cursorOf(t *testing.T, sort string) string {
	fx := newFixture(t, 3)
	page, err := fx.review.List(context.Background(), supervisor, review.Filter{}, review.Page{Sort: sort, Limit: 1})
	if err != nil || page.Next == "" {
		t.Fatalf("no cursor: %v", err)
	}
	return page.Next
}

// A list that takes longer than the store allows ends with a 503 naming
// the filter, rather than holding the relay.
func TestListTimesOut(t *testing.T) {
	fx := newFixture(t, 5)
	rv, err := review.New(review.Config{DB: fx.db, Findings: fx.findings, Runs: runs.New(fx.db), QueryTimeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rv.List(context.Background(), duty, review.Filter{Repeat: 30, Now: now}, review.Page{})
	if fe := fault.As(err); fe == nil || fe.Kind != fault.Unavailable || fe.Code != "query_timeout" || !strings.Contains(fe.Message, "repeat=30") {
		t.Errorf("got %v, want a 503 query_timeout naming the filter", err)
	}
}
