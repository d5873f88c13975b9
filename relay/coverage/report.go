package coverage

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Query narrows a coverage report: the period [From, To) (the shift under
// way when both are zero), the instant At "since last watched" is measured
// at (To when zero, but not after now), and optionally one site, zone or
// camera.
type Query struct {
	From, To, At       time.Time
	Site, Zone, Camera string
}

// span is a piece of a camera's watched time.
type span struct{ start, end int64 }

// Report returns the coverage of a period. The zone policy and the key
// moments are evaluated for a period within one shift (a handover's, the
// one under way), not for longer ones.
func (s *Store) Report(ctx context.Context, q Query) (wire.Coverage, error) {
	now := s.Now()
	if q.From.IsZero() && q.To.IsZero() {
		sh := s.Schedule.At(now)
		q.From, q.To = sh.Start, sh.End
	}
	if q.From.IsZero() || q.To.IsZero() || !q.To.After(q.From) {
		return wire.Coverage{}, fault.New(fault.Invalid, "bad_request", "the period needs from before to")
	}
	if q.At.IsZero() {
		q.At = q.To
	}
	if q.At.After(now) {
		q.At = now
	}
	_, cams, locs, err := s.cameras(ctx)
	if err != nil {
		return wire.Coverage{}, err
	}
	var picked []store.Camera
	for _, c := range cams {
		if (q.Site == "" || c.Site == q.Site) && (q.Zone == "" || c.Zone == q.Zone) && (q.Camera == "" || c.ID == q.Camera) {
			picked = append(picked, c)
		}
	}
	watched, err := s.watched(ctx, q.From, q.To, q.Site)
	if err != nil {
		return wire.Coverage{}, err
	}
	last, err := s.lastWatched(ctx, q.At, q.Site)
	if err != nil {
		return wire.Coverage{}, err
	}
	out := wire.Coverage{From: q.From.UTC(), To: q.To.UTC(), At: q.At.UTC(), Sites: []wire.SiteCoverage{}}
	sh := s.Schedule.At(q.From)
	within := !q.To.After(sh.End) && q.To.Sub(q.From) <= shiftLike
	var spans map[cameraKey][]span
	if within {
		out.Shift = &sh
		end := minTime(q.To, q.At)
		if spans, err = s.spans(ctx, q.From.Add(-s.maxGap()), maxTime(end, q.From), q.Site, s.evaluated()); err != nil {
			return wire.Coverage{}, err
		}
	}

	bySite := map[string]*wire.SiteCoverage{}
	var order []string
	zoneIndex := map[cameraKey]int{} // (site, zone) → index in the site's Zones
	zoneCams := map[cameraKey][]cameraKey{}
	for _, c := range picked {
		sc := bySite[c.Site]
		if sc == nil {
			sc = &wire.SiteCoverage{Site: c.Site, Zones: []wire.ZoneCoverage{}, Cameras: []wire.CameraCoverage{}, Moments: []wire.Moment{}}
			bySite[c.Site] = sc
			order = append(order, c.Site)
		}
		k := cameraKey{c.Site, c.ID}
		cc := wire.CameraCoverage{Camera: c.ID, Zone: c.Zone, WatchedSeconds: watched[k] / 1000, LastWatched: timePtr(last[k])}
		sc.Cameras = append(sc.Cameras, cc)
		sc.WatchedSeconds += cc.WatchedSeconds
		sc.LastWatched = later(sc.LastWatched, cc.LastWatched)
		zk := cameraKey{c.Site, c.Zone}
		i, ok := zoneIndex[zk]
		if !ok {
			i = len(sc.Zones)
			zoneIndex[zk] = i
			sc.Zones = append(sc.Zones, wire.ZoneCoverage{Zone: c.Zone})
		}
		z := &sc.Zones[i]
		z.WatchedSeconds += cc.WatchedSeconds
		z.LastWatched = later(z.LastWatched, cc.LastWatched)
		zoneCams[zk] = append(zoneCams[zk], k)
	}
	for _, id := range order {
		sc := bySite[id]
		for i := range sc.Zones {
			z := &sc.Zones[i]
			if z.LastWatched != nil {
				since := int64(q.At.Sub(*z.LastWatched) / time.Second)
				z.SinceSeconds = &since
			}
			p, ok := s.Policies[z.Zone]
			if !ok {
				continue
			}
			z.Policy = &wire.ZonePolicy{MaxGapSeconds: int64(p.MaxGap / time.Second), MinPerShiftSeconds: int64(p.MinPerShift / time.Second), OncePerShift: p.OncePerShift}
			z.Unwatched = p.MaxGap > 0 && (z.LastWatched == nil || q.At.Sub(*z.LastWatched) >= p.MaxGap)
			sc.Unwatched = sc.Unwatched || z.Unwatched
			if !within {
				continue
			}
			var union []span
			for _, k := range zoneCams[cameraKey{id, z.Zone}] {
				union = append(union, spans[k]...)
			}
			seen, gap := evaluate(merge(union), ms(q.From), ms(maxTime(minTime(q.To, q.At), q.From)))
			seenS, gapS := seen/1000, gap/1000
			met := (!p.OncePerShift || seen > 0) && seen >= p.MinPerShift.Milliseconds() && (p.MaxGap == 0 || gap < p.MaxGap.Milliseconds())
			z.SeenSeconds, z.LongestGapSeconds, z.Met = &seenS, &gapS, &met
			if sc.PolicyMet == nil {
				sc.PolicyMet = new(bool)
				*sc.PolicyMet = true
			}
			*sc.PolicyMet = *sc.PolicyMet && met
		}
		if within {
			sc.Moments = s.moments(id, locs[id], picked, spans, q.From, q.To, q.At)
		}
		out.Sites = append(out.Sites, *sc)
	}
	return out, nil
}

// evaluated returns the zones a shift's report reads spans of: those
// with a policy or a key moment.
func (s *Store) evaluated() []string {
	var out []string
	for z := range s.Policies {
		out = append(out, z)
	}
	for _, m := range s.KeyMoments {
		for _, z := range m.Zones {
			if !slices.Contains(out, z) {
				out = append(out, z)
			}
		}
	}
	sort.Strings(out)
	return out
}

// maxGap is the longest max_gap of the policies: how far before a period
// its spans are read, for a gap that began before it.
func (s *Store) maxGap() time.Duration {
	var m time.Duration
	for _, p := range s.Policies {
		m = max(m, p.MaxGap)
	}
	return m
}

// watched sums each camera's watched milliseconds in [from, to), inside
// SQLite: whole UTC days from their sums (watch_days), the part days at
// either end from their spans clipped to the period.
func (s *Store) watched(ctx context.Context, from, to time.Time, site string) (map[cameraKey]int64, error) {
	f, t := ms(from), ms(to)
	firstFull, lastFull := (f+dayMillis-1)/dayMillis, t/dayMillis // whole days [firstFull, lastFull)
	out := map[cameraKey]int64{}
	addUp := func(q string, args ...any) error {
		if site != "" {
			q, args = q+` AND site_id = ?`, append(args, site)
		}
		part, err := s.perCamera(ctx, q+` GROUP BY site_id, camera_id`, args...)
		for k, v := range part {
			out[k] += v
		}
		return err
	}
	clipped := `SELECT site_id, camera_id, SUM(MIN(end_ms, ?) - MAX(start_ms, ?)) FROM watch_spans INDEXED BY watch_spans_day
		WHERE day BETWEEN ? AND ? AND start_ms < ? AND end_ms > ?`
	if firstFull >= lastFull { // within a day or across one midnight: spans only
		return out, addUp(clipped, t, f, f/dayMillis, (t-1)/dayMillis, t, f)
	}
	if err := addUp(`SELECT site_id, camera_id, SUM(watched_ms) FROM watch_days WHERE day >= ? AND day < ?`, firstFull, lastFull); err != nil {
		return nil, err
	}
	if f < firstFull*dayMillis {
		if err := addUp(clipped, t, f, f/dayMillis, f/dayMillis, t, f); err != nil {
			return nil, err
		}
	}
	if t > lastFull*dayMillis {
		if err := addUp(clipped, t, f, lastFull, lastFull, t, f); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lastWatched returns when each camera was last on screen at or before
// at, within the lookback: the days before at's from their sums, at's own
// day from its spans.
func (s *Store) lastWatched(ctx context.Context, at time.Time, site string) (map[cameraKey]int64, error) {
	a := ms(at)
	day := a / dayMillis
	filter := ""
	var extra []any
	if site != "" {
		filter, extra = ` AND site_id = ?`, []any{site}
	}
	out, err := s.perCamera(ctx, `SELECT site_id, camera_id, MAX(last_end_ms) FROM watch_days WHERE day >= ? AND day < ?`+filter+
		` GROUP BY site_id, camera_id`, append([]any{(a - lookback.Milliseconds()) / dayMillis, day}, extra...)...)
	if err != nil {
		return nil, err
	}
	today, err := s.perCamera(ctx, `SELECT site_id, camera_id, MAX(MIN(end_ms, ?)) FROM watch_spans INDEXED BY watch_spans_day
		WHERE day = ? AND start_ms < ?`+filter+` GROUP BY site_id, camera_id`, append([]any{a, day, a}, extra...)...)
	for k, v := range today {
		out[k] = max(out[k], v)
	}
	return out, err
}

func (s *Store) perCamera(ctx context.Context, q string, args ...any) (map[cameraKey]int64, error) {
	rows, err := s.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading coverage: %w", err)
	}
	defer rows.Close()
	out := map[cameraKey]int64{}
	for rows.Next() {
		var k cameraKey
		var v int64
		if err := rows.Scan(&k.site, &k.camera, &v); err != nil {
			return nil, fmt.Errorf("reading coverage: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// spans returns the cameras' watched spans overlapping [from, to), of
// the zones given (all when none), in no particular order.
func (s *Store) spans(ctx context.Context, from, to time.Time, site string, zones []string) (map[cameraKey][]span, error) {
	f, t := ms(from), ms(to)
	q := `SELECT site_id, camera_id, start_ms, end_ms FROM watch_spans INDEXED BY watch_spans_day WHERE day BETWEEN ? AND ? AND start_ms < ? AND end_ms > ?`
	args := []any{f / dayMillis, t / dayMillis, t, f}
	if site != "" {
		q, args = q+` AND site_id = ?`, append(args, site)
	}
	if len(zones) > 0 {
		q += ` AND zone IN (?` + strings.Repeat(", ?", len(zones)-1) + `)`
		for _, z := range zones {
			args = append(args, z)
		}
	}
	rows, err := s.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading watched spans: %w", err)
	}
	defer rows.Close()
	out := map[cameraKey][]span{}
	for rows.Next() {
		var k cameraKey
		var sp span
		if err := rows.Scan(&k.site, &k.camera, &sp.start, &sp.end); err != nil {
			return nil, fmt.Errorf("reading watched spans: %w", err)
		}
		out[k] = append(out[k], sp)
	}
	return out, rows.Err()
}

// merge returns the union of spans, in order.
func merge(spans []span) []span {
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var out []span
	for _, sp := range spans {
		if n := len(out); n > 0 && sp.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, sp.end)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// evaluate returns the time of [from, to) the union covers, and the
// longest time in it nothing did. A gap that began before from counts from
// the last sight before from in the spans read (the longest max_gap back:
// a gap longer than that was flagged before from already); one with no
// sight before counts from from.
func evaluate(union []span, from, to int64) (seen, longestGap int64) {
	prevEnd := int64(-1)
	for _, sp := range union {
		if sp.end <= from {
			prevEnd = sp.end
			continue
		}
		if sp.start >= to {
			break
		}
		gapFrom := from
		if prevEnd >= 0 {
			gapFrom = prevEnd
		}
		longestGap = max(longestGap, sp.start-gapFrom)
		seen += min(sp.end, to) - max(sp.start, from)
		prevEnd = sp.end
	}
	gapFrom := from
	if prevEnd >= 0 {
		gapFrom = prevEnd
	}
	return seen, max(longestGap, to-gapFrom)
}

func timePtr(v int64) *time.Time {
	if v == 0 {
		return nil
	}
	t := fromMS(v)
	return &t
}

func later(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.After(*a)) {
		return b
	}
	return a
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

// ShiftCoverage is the coverage of [from, to), a shift or the part of it
// gone by: what a handover keeps.
func (s *Store) ShiftCoverage(ctx context.Context, from, to time.Time) (wire.Coverage, error) {
	return s.Report(ctx, Query{From: from, To: to})
}
