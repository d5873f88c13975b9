package stats

import (
	"context"
	"database/sql"
	"net/url"
	"slices"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// rectifiedSQL is a finding put right and standing so: the site reported
// it rectified and no re-check reopened it since (a reopened finding is
// not rectified until reported again; a withdrawn one never was).
const rectifiedSQL = `f.status IN ('rectified', 'verified')`

// hoursToRectifySQL is the hours from a finding's flagging to the first
// rectification its site reported (the first rectify event: a finding
// reopened and rectified again took the first report's time, the second
// being the re-check's business). NULL for one with no such event.
const hoursToRectifySQL = `(julianday((SELECT e.at FROM finding_events e WHERE e.finding_id = f.id AND e.action = 'rectify'
	ORDER BY e.id LIMIT 1)) - julianday(f.flagged_at)) * 24`

// Rectification is how far q's filter's findings were put right, in all
// and by q's group when given: rectified, verified, the rate (rectified
// over the findings not withdrawn) and the median hours from flagging to
// the first rectification reported.
func (s *Store) Rectification(ctx context.Context, p auth.Principal, q url.Values) (wire.RectificationStats, error) {
	if err := mayRead(p); err != nil {
		return wire.RectificationStats{}, err
	}
	fq, own, err := options(q, "group")
	if err != nil {
		return wire.RectificationStats{}, err
	}
	sc, err := s.parse(ctx, fq)
	if err != nil {
		return wire.RectificationStats{}, err
	}
	// Without a group every finding is in the one group "".
	g := grouping{expr: `''`, fold: func(string) string { return "" }}
	if own["group"] != "" {
		sites, err := s.sites(ctx)
		if err != nil {
			return wire.RectificationStats{}, err
		}
		if g, err = s.grouping(own["group"], sites); err != nil {
			return wire.RectificationStats{}, err
		}
	}
	type tally struct {
		total, rectified, verified, withdrawn int
		hours                                 []float64
	}
	by := map[string]*tally{}
	at := func(raw string) *tally {
		k := g.fold(raw)
		if by[k] == nil {
			by[k] = &tally{}
		}
		return by[k]
	}
	err = s.query(ctx, "rectification", `SELECT `+g.expr+`, count(*), sum(`+rectifiedSQL+`), sum(f.status = 'verified'),
		sum(f.status = 'withdrawn') FROM findings f WHERE `+sc.where+` GROUP BY 1`, sc.args, func(rows *sql.Rows) error {
		var raw string
		var n, r, v, w int
		if err := rows.Scan(&raw, &n, &r, &v, &w); err != nil {
			return err
		}
		t := at(raw)
		t.total, t.rectified, t.verified, t.withdrawn = t.total+n, t.rectified+r, t.verified+v, t.withdrawn+w
		return nil
	})
	if err != nil {
		return wire.RectificationStats{}, err
	}
	err = s.query(ctx, "the time to rectify", `SELECT `+g.expr+`, `+hoursToRectifySQL+` FROM findings f WHERE (`+sc.where+`) AND `+rectifiedSQL,
		sc.args, func(rows *sql.Rows) error {
			var raw string
			var h sql.NullFloat64
			if err := rows.Scan(&raw, &h); err != nil {
				return err
			}
			if h.Valid {
				t := at(raw)
				t.hours = append(t.hours, h.Float64)
			}
			return nil
		})
	if err != nil {
		return wire.RectificationStats{}, err
	}
	figures := func(t *tally) wire.Rectification {
		r := wire.Rectification{Total: t.total, Rectified: t.rectified, Verified: t.verified, MedianHoursToRectify: median(t.hours)}
		if n := t.total - t.withdrawn; n > 0 {
			rate := float64(t.rectified) / float64(n)
			r.Rate = &rate
		}
		return r
	}
	all := &tally{}
	for _, t := range by {
		all.total, all.rectified, all.verified, all.withdrawn = all.total+t.total, all.rectified+t.rectified, all.verified+t.verified, all.withdrawn+t.withdrawn
		all.hours = append(all.hours, t.hours...)
	}
	out := wire.RectificationStats{Rectification: figures(all)}
	if own["group"] == "" {
		return out, nil
	}
	out.Group, out.Groups = g.name, []wire.RectificationGroup{}
	counts := map[string]int{}
	for k, t := range by {
		counts[k] = t.total
	}
	keys := g.keys(counts, sc.filter)
	if err := g.ready(ctx, keys); err != nil {
		return wire.RectificationStats{}, err
	}
	for _, k := range keys {
		t := by[k]
		if t == nil {
			t = &tally{}
		}
		out.Groups = append(out.Groups, wire.RectificationGroup{Key: k, Label: g.label(k), Count: t.total,
			Rectification: figures(t), Drill: drill(g.drill(sc.filter, k))})
	}
	return out, nil
}

// median is the middle of vs (the mean of the two middle ones of an even
// count), nil for none.
func median(vs []float64) *float64 {
	if len(vs) == 0 {
		return nil
	}
	slices.Sort(vs)
	m := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		m = (vs[len(vs)/2-1] + m) / 2
	}
	return &m
}
