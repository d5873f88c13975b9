package stats

import (
	"cmp"
	"context"
	"database/sql"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Windows and bounds of the problem statistics.
const (
	// rankRepeatDays is the window of a repeat in the sites' ranking, the
	// review list's repeat mark's.
	rankRepeatDays = 30
	defaultRank    = 20
	maxRank        = 200
	maxRepeatDays  = 365
)

// overdueAges are the overdue ages in order, each with how long past
// its deadline a finding is at least.
var overdueAges = []struct {
	key   string
	since time.Duration
}{
	{wire.OverdueOverWeek, 7 * 24 * time.Hour},
	{wire.OverdueDays3To7, 3 * 24 * time.Hour},
	{wire.OverdueDays1To3, 24 * time.Hour},
	{wire.OverdueUnderDay, 0},
}

// Overdue counts q's filter's findings overdue at the relay's now (the
// review list's overdue=1), by how long past their deadline. Each age's
// drill is the filter's overdue list: the review filter has no deadline
// range, and the list sorted by deadline (sort=deadline) shows the ages
// in order.
func (s *Store) Overdue(ctx context.Context, p auth.Principal, q url.Values) (wire.OverdueStats, error) {
	if err := mayRead(p); err != nil {
		return wire.OverdueStats{}, err
	}
	sc, err := s.parse(ctx, q)
	if err != nil {
		return wire.OverdueStats{}, err
	}
	now := sc.filter.Now
	out := wire.OverdueStats{Now: now.UTC(), Buckets: []wire.OverdueBucket{}}
	counts := map[string]int{}
	if sc.filter.Overdue == nil || *sc.filter.Overdue {
		of := overdue(sc.filter)
		w, args := s.Review.Where(of)
		age := `CASE`
		var ageArgs []any
		for _, a := range overdueAges[:len(overdueAges)-1] {
			age += ` WHEN f.deadline <= ? THEN '` + a.key + `'`
			ageArgs = append(ageArgs, sqlitedb.FormatTime(now.Add(-a.since)))
		}
		age += ` ELSE '` + wire.OverdueUnderDay + `' END`
		err = s.query(ctx, "the overdue", `SELECT `+age+`, count(*) FROM findings f WHERE `+w+` GROUP BY 1`,
			append(ageArgs, args...), func(rows *sql.Rows) error {
				var k string
				var n int
				if err := rows.Scan(&k, &n); err != nil {
					return err
				}
				counts[k] = n
				out.Total += n
				return nil
			})
		if err != nil {
			return wire.OverdueStats{}, err
		}
	}
	d := drill(overdue(sc.filter))
	for i := len(overdueAges) - 1; i >= 0; i-- {
		k := overdueAges[i].key
		out.Buckets = append(out.Buckets, wire.OverdueBucket{Key: k, Label: phrases.Of("overdue_" + k), Count: counts[k], Drill: d})
	}
	return out, nil
}

// Repeats counts, per site, q's filter's findings whose deviation the
// site had again within days (q's days, default 30; it takes the place
// of the filter's own repeat), most first.
func (s *Store) Repeats(ctx context.Context, p auth.Principal, q url.Values) ([]wire.RepeatSite, error) {
	sc, days, sites, err := s.ranking(ctx, p, q, "days", rankRepeatDays, maxRepeatDays)
	if err != nil {
		return nil, err
	}
	rf := repeating(sc.filter, days)
	counts, err := s.perSite(ctx, "the repeats", rf)
	if err != nil {
		return nil, err
	}
	out := []wire.RepeatSite{}
	for id, n := range counts {
		out = append(out, wire.RepeatSite{Site: id, Name: siteName(sites, id), District: sites[id].District, Count: n, Days: days,
			Drill: drill(only(rf, "site", id))})
	}
	slices.SortFunc(out, func(a, b wire.RepeatSite) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Site, b.Site))
	})
	return out, nil
}

// Sites ranks the sites by the problems of q's filter's findings, the
// first q's limit (default 20). A site's score weighs what needs a visit
// most:
//
//	score = critical×3 + major×2 + minor + overdue×2 + repeats
//
// overdue being those overdue now, repeats those whose deviation the
// site had again within 30 days: a site with an overdue critical finding
// it keeps repeating scores 3+2+1 = 6 for it.
func (s *Store) Sites(ctx context.Context, p auth.Principal, q url.Values) ([]wire.RankedSite, error) {
	sc, limit, sites, err := s.ranking(ctx, p, q, "limit", defaultRank, maxRank)
	if err != nil {
		return nil, err
	}
	by := map[string]*wire.RankedSite{}
	err = s.query(ctx, "the sites' findings", `SELECT f.site_id, count(*), sum(f.severity = 'critical'), sum(f.severity = 'major'),
		sum(f.severity = 'minor') FROM findings f WHERE `+sc.where+` GROUP BY f.site_id`, sc.args, func(rows *sql.Rows) error {
		var r wire.RankedSite
		if err := rows.Scan(&r.Site, &r.Findings, &r.Critical, &r.Major, &r.Minor); err != nil {
			return err
		}
		by[r.Site] = &r
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Overdue and repeating within the filter: a filter of findings not
	// overdue has none overdue; one of repeats within N days keeps those
	// repeating within the shorter of N and 30.
	if sc.filter.Overdue == nil || *sc.filter.Overdue {
		n, err := s.perSite(ctx, "the sites' overdue", overdue(sc.filter))
		if err != nil {
			return nil, err
		}
		for id, c := range n {
			if r := by[id]; r != nil {
				r.Overdue = c
			}
		}
	}
	days := rankRepeatDays
	if sc.filter.Repeat > 0 {
		days = min(days, sc.filter.Repeat)
	}
	n, err := s.perSite(ctx, "the sites' repeats", repeating(sc.filter, days))
	if err != nil {
		return nil, err
	}
	following, err := s.following(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]wire.RankedSite, 0, len(by))
	for id, r := range by {
		r.Repeats = n[id]
		r.Score = r.Critical*3 + r.Major*2 + r.Minor + r.Overdue*2 + r.Repeats
		r.Name, r.District, r.SiteType = siteName(sites, id), sites[id].District, sites[id].Kind
		r.Following = following[id]
		r.Drill = drill(only(sc.filter, "site", id))
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b wire.RankedSite) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Findings, a.Findings), cmp.Compare(a.Site, b.Site))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// perSite counts a filter's findings per site.
func (s *Store) perSite(ctx context.Context, what string, f review.Filter) (map[string]int, error) {
	w, args := s.Review.Where(f)
	out := map[string]int{}
	err := s.query(ctx, what, `SELECT f.site_id, count(*) FROM findings f WHERE `+w+` GROUP BY f.site_id`, args, func(rows *sql.Rows) error {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		out[id] = n
		return nil
	})
	return out, err
}

// number reads one of the statistics' own whole-number parameters.
// ranking reads what a per-site ranking needs: the caller's right to
// read, q's filter, the ranking's one numeric option (name, default def,
// 1 to hi) and the sites it names.
func (s *Store) ranking(ctx context.Context, p auth.Principal, q url.Values, name string, def, hi int) (scope, int, map[string]store.Site, error) {
	if err := mayRead(p); err != nil {
		return scope{}, 0, nil, err
	}
	fq, own, err := options(q, name)
	if err != nil {
		return scope{}, 0, nil, err
	}
	n, err := number(own, name, def, 1, hi)
	if err != nil {
		return scope{}, 0, nil, err
	}
	sc, err := s.parse(ctx, fq)
	if err != nil {
		return scope{}, 0, nil, err
	}
	sites, err := s.sites(ctx)
	if err != nil {
		return scope{}, 0, nil, err
	}
	return sc, n, sites, nil
}

func number(own map[string]string, name string, def, lo, hi int) (int, error) {
	v, ok := own[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fault.Field(name, "%q: want a whole number from %d to %d", v, lo, hi)
	}
	return n, nil
}
