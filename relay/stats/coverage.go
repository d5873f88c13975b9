package stats

import (
	"context"
	"net/url"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/coverage"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// MaxCoverageShifts bounds the shifts one coverage answer evaluates
// (each is a coverage report of its own): three months of three shifts.
const MaxCoverageShifts = 280

// Coverage returns the watch coverage of each shift of the period q's
// from and to give (the review filter's dates or times; both required),
// from relay/coverage's record, its zone policy and key moments evaluated
// as a handover does for its shift. A shift under way counts up to now; a
// shift not begun is left out.
func (s *Store) Coverage(ctx context.Context, p auth.Principal, q url.Values) ([]wire.ShiftCoverage, error) {
	if err := mayRead(p); err != nil {
		return nil, err
	}
	for k := range q {
		if k != "from" && k != "to" {
			return nil, fault.Field(k, "not a parameter of the coverage per shift: give from and to")
		}
	}
	if q.Get("from") == "" || q.Get("to") == "" {
		field := "from"
		if q.Get("from") != "" {
			field = "to"
		}
		return nil, fault.Field(field, "required: the coverage per shift needs from and to")
	}
	sc, err := s.parse(ctx, q)
	if err != nil {
		return nil, err
	}
	from, to := sc.filter.From, sc.filter.To
	now := s.Now()
	if to.After(now) {
		to = now
	}
	out := []wire.ShiftCoverage{}
	for sh := s.Schedule.At(from); sh.Start.Before(to); sh = s.Schedule.After(sh) {
		if len(out) == MaxCoverageShifts {
			return nil, fault.Field("to", "the period spans over %d shifts: ask for a shorter one", MaxCoverageShifts)
		}
		start, end := maxTime(sh.Start, from), minTime(sh.End, to)
		if !end.After(start) {
			continue
		}
		c, err := s.Config.Coverage.Report(ctx, coverage.Query{From: start, To: end})
		if err != nil {
			return nil, err
		}
		row := wire.ShiftCoverage{Shift: sh.ID, Name: sh.Name, Start: sh.Start.UTC(), End: sh.End.UTC(), Sites: len(c.Sites)}
		var watched int64
		for _, site := range c.Sites {
			watched += site.WatchedSeconds
			if site.PolicyMet != nil && *site.PolicyMet {
				row.SitesMet++
			}
			for _, m := range site.Moments {
				switch m.State {
				case wire.MomentWatched:
					row.KeyMomentsWatched++
				case wire.MomentMissed:
					row.KeyMomentsMissed++
				}
			}
		}
		row.MinutesWatched = watched / 60
		row.Drill = drill(between(sc.filter, sh.Start, sh.End))
		out = append(out, row)
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
