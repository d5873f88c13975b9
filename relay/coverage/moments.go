package coverage

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// moments returns the key moments of site whose window overlaps [from,
// to), each with its state at at, from the cameras' spans.
func (s *Store) moments(site string, loc *time.Location, cams []store.Camera, spans map[cameraKey][]span, from, to, at time.Time) []wire.Moment {
	out := []wire.Moment{}
	if loc == nil {
		loc = s.Schedule.Location()
	}
	for _, def := range s.KeyMoments {
		if len(def.Sites) > 0 && !slices.Contains(def.Sites, site) {
			continue
		}
		var ids []string
		for _, c := range cams {
			if c.Site == site && slices.Contains(def.Zones, c.Zone) {
				ids = append(ids, c.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		local := from.In(loc)
		for day := -1; ; day++ {
			midnight := time.Date(local.Year(), local.Month(), local.Day()+day, 0, 0, 0, 0, loc)
			if !midnight.Before(to) {
				break
			}
			for _, m := range def.Times {
				begin := time.Date(midnight.Year(), midnight.Month(), midnight.Day(), m/60, m%60, 0, 0, loc)
				end := begin.Add(def.Window)
				if !end.After(from) || !begin.Before(to) {
					continue
				}
				mo := wire.Moment{ID: def.ID, Name: def.Name, Site: site, Zones: def.Zones, Cameras: ids, At: begin.UTC(),
					WindowSeconds: int64(def.Window / time.Second)}
				seen := false
				for _, id := range ids {
					for _, sp := range spans[cameraKey{site, id}] {
						if sp.start < min(ms(end), ms(at)) && sp.end > ms(begin) {
							seen = true
						}
					}
				}
				switch {
				case seen:
					mo.State = wire.MomentWatched
				case at.Before(begin):
					mo.State = wire.MomentUpcoming
				case at.Before(end):
					mo.State = wire.MomentDue
				default:
					mo.State = wire.MomentMissed
				}
				out = append(out, mo)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// Moments returns every site's key moments whose window overlaps [now -
// back, now + ahead), with their states now: what a console prompts for.
func (s *Store) Moments(ctx context.Context, back, ahead time.Duration) (wire.Moments, error) {
	now := s.Now()
	from, to := now.Add(-back), now.Add(ahead)
	_, cams, locs, err := s.cameras(ctx)
	if err != nil {
		return wire.Moments{}, err
	}
	spans, err := s.spans(ctx, from.Add(-6*time.Hour), now, "", s.evaluated()) // a window is at most 6 h
	if err != nil {
		return wire.Moments{}, err
	}
	out := wire.Moments{Now: now.UTC(), Moments: []wire.Moment{}}
	seen := map[string]bool{}
	for _, c := range cams {
		if seen[c.Site] {
			continue
		}
		seen[c.Site] = true
		out.Moments = append(out.Moments, s.moments(c.Site, locs[c.Site], cams, spans, from, to, now)...)
	}
	sort.SliceStable(out.Moments, func(i, j int) bool { return out.Moments[i].At.Before(out.Moments[j].At) })
	return out, nil
}

// Unwatched returns the zones with a max_gap policy not seen for that
// long or longer at at (the relay's now when zero).
func (s *Store) Unwatched(ctx context.Context, at time.Time) (wire.Unwatched, error) {
	if at.IsZero() || at.After(s.Now()) {
		at = s.Now()
	}
	_, cams, _, err := s.cameras(ctx)
	if err != nil {
		return wire.Unwatched{}, err
	}
	last, err := s.lastWatched(ctx, at, "")
	if err != nil {
		return wire.Unwatched{}, err
	}
	type zk struct{ site, zone string }
	zoneLast := map[zk]int64{}
	var order []zk
	for _, c := range cams {
		k := zk{c.Site, c.Zone}
		if _, ok := zoneLast[k]; !ok {
			order = append(order, k)
		}
		zoneLast[k] = max(zoneLast[k], last[cameraKey{c.Site, c.ID}])
	}
	out := wire.Unwatched{At: at.UTC(), Zones: []wire.UnwatchedZone{}}
	for _, k := range order {
		p := s.Policies[k.zone]
		if p.MaxGap <= 0 {
			continue
		}
		l := zoneLast[k]
		if l != 0 && ms(at)-l < p.MaxGap.Milliseconds() {
			continue
		}
		z := wire.UnwatchedZone{Site: k.site, Zone: k.zone, LastWatched: timePtr(l), MaxGapSeconds: int64(p.MaxGap / time.Second)}
		if l != 0 {
			since := (ms(at) - l) / 1000
			z.SinceSeconds = &since
		}
		out.Zones = append(out.Zones, z)
	}
	return out, nil
}
