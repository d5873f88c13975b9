package stats

import (
	"cmp"
	"context"
	"database/sql"
	"net/url"
	"slices"
	"strings"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Findings counts the findings of q's review filter by q's group (and
// split): Σ the groups' counts = Total = the review list's total for the
// same filter, and each group's drill lists exactly its findings.
func (s *Store) Findings(ctx context.Context, p auth.Principal, q url.Values) (wire.FindingStats, error) {
	if err := mayRead(p); err != nil {
		return wire.FindingStats{}, err
	}
	fq, own, err := options(q, "group", "split")
	if err != nil {
		return wire.FindingStats{}, err
	}
	if own["group"] == "" {
		return wire.FindingStats{}, fault.Field("group", "required: one of %s", strings.Join(Groupings, ", "))
	}
	if own["split"] != "" && own["split"] == own["group"] {
		return wire.FindingStats{}, fault.Field("split", "%q is the group already: split by another", own["split"])
	}
	sc, err := s.parse(ctx, fq)
	if err != nil {
		return wire.FindingStats{}, err
	}
	sites, err := s.sites(ctx)
	if err != nil {
		return wire.FindingStats{}, err
	}
	g, err := s.grouping(own["group"], sites)
	if err != nil {
		return wire.FindingStats{}, err
	}
	splitExpr := `''`
	var sg grouping
	if own["split"] != "" {
		if sg, err = s.grouping(own["split"], sites); err != nil {
			if fe := fault.As(err); fe != nil && fe.Field == "group" {
				return wire.FindingStats{}, fault.Field("split", "%q: want one of %s", own["split"], strings.Join(Groupings, ", "))
			}
			return wire.FindingStats{}, err
		}
		splitExpr = sg.expr
	}
	out := wire.FindingStats{Group: g.name, Split: sg.name, Groups: []wire.StatsGroup{}}
	counts := map[string]int{}
	splits := map[string]map[string]int{}
	err = s.query(ctx, "findings by "+g.name, `SELECT `+g.expr+`, `+splitExpr+`, count(*) FROM findings f WHERE `+sc.where+` GROUP BY 1, 2`,
		sc.args, func(rows *sql.Rows) error {
			var raw, rawSplit string
			var n int
			if err := rows.Scan(&raw, &rawSplit, &n); err != nil {
				return err
			}
			k := g.fold(raw)
			counts[k] += n
			out.Total += n
			if sg.name != "" {
				if splits[k] == nil {
					splits[k] = map[string]int{}
				}
				splits[k][sg.fold(rawSplit)] += n
			}
			return nil
		})
	if err != nil {
		return wire.FindingStats{}, err
	}
	keys := g.keys(counts, sc.filter)
	if err := g.ready(ctx, keys); err != nil {
		return wire.FindingStats{}, err
	}
	if sg.name != "" {
		var splitKeys []string
		for _, m := range splits {
			for k := range m {
				splitKeys = append(splitKeys, k)
			}
		}
		if err := sg.ready(ctx, splitKeys); err != nil {
			return wire.FindingStats{}, err
		}
	}
	for _, k := range keys {
		grp := wire.StatsGroup{Key: k, Label: g.label(k), Count: counts[k], Drill: drill(g.drill(sc.filter, k))}
		if sg.name != "" {
			grp.Split = splits[k]
			if grp.Split == nil {
				grp.Split = map[string]int{}
			}
			if out.SplitLabels == nil {
				out.SplitLabels = map[string]bilingual.Text{}
			}
			for sk := range grp.Split {
				out.SplitLabels[sk] = sg.label(sk)
			}
		}
		out.Groups = append(out.Groups, grp)
	}
	return out, nil
}

// ready reads what the labels of keys need.
func (g grouping) ready(ctx context.Context, keys []string) error {
	if g.prepare == nil {
		return nil
	}
	return g.prepare(ctx, keys)
}

// keys orders the groups counted: a time grouping's in time order, over
// the filter's whole period when it has one; the fixed ones' (severities,
// statuses) in their order, every one; the rest most findings first.
func (g grouping) keys(counts map[string]int, f review.Filter) []string {
	var out []string
	if g.period != nil {
		if !f.From.IsZero() && !f.To.IsZero() {
			out = g.fill(f.From, f.To)
		}
		for k := range counts {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	// Only the values the filter keeps: a group of another is empty, and
	// its drill would not be.
	for _, k := range g.order {
		if kept := g.kept(f); len(kept) == 0 || slices.Contains(kept, k) {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range counts {
		if !slices.Contains(out, k) {
			rest = append(rest, k)
		}
	}
	slices.SortFunc(rest, func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	return append(out, rest...)
}
