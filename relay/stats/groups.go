package stats

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/store"
)

// Groupings are what findings are grouped by (group=, split=).
var Groupings = []string{"day", "week", "month", "template", "severity", "status", "district", "site", "site_type", "deviation", "officer"}

// maxBuckets bounds the empty days, weeks or months a period is filled
// with (a chart's axis), not the groups counted.
const maxBuckets = 400

// grouping is how findings are grouped by one of Groupings: SQLite reads
// each finding's raw key (expr, over findings f), fold makes it the
// group's key (a UTC hour becomes the duty room's day, a site its
// district), and each key has a label and a drill.
type grouping struct {
	name  string
	expr  string
	fold  func(raw string) string
	label func(key string) bilingual.Text
	drill func(f review.Filter, key string) review.Filter
	// order lists keys first in this order (severities, statuses), filled
	// with empty groups of those the filter keeps (kept, all when none);
	// the rest follow, most findings first.
	order []string
	kept  func(f review.Filter) []string
	// period is a time group's key's span: those are in time order,
	// the filter's whole period filled with empty groups.
	period func(key string) (from, to time.Time)
	// fill lists a time group's keys over [from, to).
	fill func(from, to time.Time) []string
	// prepare, when set, reads what the labels of these keys need.
	prepare func(ctx context.Context, keys []string) error
}

// freeText is the template or deviation "key" of findings flagged in
// words, with none of a checklist (relay/review's filter spells it so).
const freeText = "-"

func (s *Store) grouping(name string, sites map[string]store.Site) (grouping, error) {
	g := grouping{
		name:  name,
		fold:  func(raw string) string { return raw },
		label: func(key string) bilingual.Text { return bilingual.New(key, key) },
		drill: func(f review.Filter, key string) review.Filter { return only(f, name, key) },
	}
	loc := s.Schedule.Location()
	switch name {
	case "day", "week", "month":
		s.timeGrouping(&g, loc)
	case "template":
		g.expr = `f.template_id`
		g.fold = func(raw string) string {
			if raw == "" {
				return freeText
			}
			return raw
		}
		g.label = func(key string) bilingual.Text {
			if key == freeText {
				return phrases.Of("report_free_text")
			}
			if t, ok := s.titles[key]; ok {
				return t
			}
			return bilingual.New(key, key)
		}
	case "severity":
		g.expr, g.order = `f.severity`, findings.Severities
		g.kept = func(f review.Filter) []string { return f.Severities }
		g.label = phrases.Of
	case "status":
		g.expr, g.order = `f.status`, review.Statuses
		g.kept = func(f review.Filter) []string { return f.Statuses }
		g.label = phrases.Of
	case "district", "site", "site_type":
		g.expr = `f.site_id`
		byKey := map[string]bilingual.Text{}
		for _, st := range sites {
			switch name {
			case "district":
				byKey[st.District[bilingual.ZH]] = st.District
			case "site":
				byKey[st.ID] = st.Name
			case "site_type":
				byKey[st.Kind] = phrases.Of("site_type_" + st.Kind)
			}
		}
		g.fold = func(id string) string {
			st, ok := sites[id]
			switch {
			case name == "site" || !ok:
				return id
			case name == "district":
				return st.District[bilingual.ZH]
			}
			return st.Kind
		}
		g.label = func(key string) bilingual.Text {
			if t, ok := byKey[key]; ok && len(t) > 0 {
				return t
			}
			return bilingual.New(key, key)
		}
	case "deviation":
		g.expr = `f.deviation`
		g.fold = func(raw string) string {
			if raw == "" {
				return freeText
			}
			return raw
		}
		// The checklists' words, and for a deviation none of them has (an
		// older template's, a console's own) the words a finding of it
		// kept, read once the groups are known.
		titles := map[string]bilingual.Text{}
		g.prepare = func(ctx context.Context, keys []string) error {
			for _, k := range keys {
				if _, ok := s.deviations[k]; ok || k == freeText {
					continue
				}
				t, err := s.deviationTitle(ctx, k)
				if err != nil {
					return err
				}
				titles[k] = t
			}
			return nil
		}
		g.label = func(key string) bilingual.Text {
			if key == freeText {
				return phrases.Of("report_free_text")
			}
			if t, ok := s.deviations[key]; ok {
				return t
			}
			if t, ok := titles[key]; ok {
				return t
			}
			return bilingual.New(key, key)
		}
	case "officer":
		g.expr = `f.observer`
	default:
		return grouping{}, fault.Field("group", "%q: want one of %s", name, strings.Join(Groupings, ", "))
	}
	return g, nil
}

// timeGrouping groups by the duty room's days, ISO weeks or months.
// SQLite groups by the UTC hour (by the minute in a time zone whose offset
// is not whole hours), which Go folds into the local period: one pass over
// the rows, no date arithmetic per row.
func (s *Store) timeGrouping(g *grouping, loc *time.Location) {
	layout := "2006-01-02T15"
	g.expr = `substr(f.observed_at, 1, 13)`
	if _, off := s.Now().In(loc).Zone(); off%3600 != 0 {
		g.expr, layout = `substr(f.observed_at, 1, 16)`, "2006-01-02T15:04"
	}
	var key func(t time.Time) string
	var step func(t time.Time) time.Time
	switch g.name {
	case "day":
		key = func(t time.Time) string { return t.Format(time.DateOnly) }
		g.period = func(k string) (time.Time, time.Time) {
			d, _ := time.ParseInLocation(time.DateOnly, k, loc)
			return d, d.AddDate(0, 0, 1)
		}
		g.label = func(k string) bilingual.Text {
			d, _ := time.ParseInLocation(time.DateOnly, k, loc)
			lay := phrases.Of("stats_day_layout")
			return bilingual.New(d.Format(lay[bilingual.ZH]), d.Format(lay[bilingual.EN]))
		}
		step = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	case "week":
		key = func(t time.Time) string {
			y, w := t.ISOWeek()
			return fmt.Sprintf("%04d-W%02d", y, w)
		}
		g.period = func(k string) (time.Time, time.Time) {
			var y, w int
			fmt.Sscanf(k, "%04d-W%02d", &y, &w)
			jan4 := time.Date(y, time.January, 4, 0, 0, 0, 0, loc) // always in week 1
			monday := jan4.AddDate(0, 0, -((int(jan4.Weekday())+6)%7)+(w-1)*7)
			return monday, monday.AddDate(0, 0, 7)
		}
		g.label = func(k string) bilingual.Text {
			var y, w int
			fmt.Sscanf(k, "%04d-W%02d", &y, &w)
			lay := phrases.Of("stats_week")
			return bilingual.New(fmt.Sprintf(lay[bilingual.ZH], y, w), fmt.Sprintf(lay[bilingual.EN], y, w))
		}
		step = func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }
	case "month":
		key = func(t time.Time) string { return t.Format("2006-01") }
		g.period = func(k string) (time.Time, time.Time) {
			m, _ := time.ParseInLocation("2006-01", k, loc)
			return m, m.AddDate(0, 1, 0)
		}
		g.label = func(k string) bilingual.Text {
			m, _ := time.ParseInLocation("2006-01", k, loc)
			lay := phrases.Of("stats_month_layout")
			return bilingual.New(m.Format(lay[bilingual.ZH]), m.Format(lay[bilingual.EN]))
		}
		step = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	}
	g.fold = func(raw string) string {
		t, err := time.Parse(layout, raw)
		if err != nil {
			return raw // not a stored time: shown as it is
		}
		return key(t.In(loc))
	}
	g.drill = func(f review.Filter, k string) review.Filter {
		from, to := g.period(k)
		return between(f, from, to)
	}
	g.fill = func(from, to time.Time) []string {
		var out []string
		for t := from.In(loc); t.Before(to) && len(out) < maxBuckets; t = step(t) {
			if k := key(t); !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		if k := key(to.Add(-time.Nanosecond).In(loc)); len(out) < maxBuckets && !slices.Contains(out, k) {
			out = append(out, k)
		}
		return out
	}
}

// deviationTitle names a deviation no checklist of the relay's has, in
// the words a finding of it kept: the catalogue's in both languages that
// its console had, or as typed.
func (s *Store) deviationTitle(ctx context.Context, id string) (bilingual.Text, error) {
	var title, text string
	err := s.DB.QueryRowContext(ctx, `SELECT f.deviation_title, f.deviation_text FROM findings f WHERE f.deviation = ? LIMIT 1`, id).Scan(&title, &text)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("reading the words of deviation %s: %w", id, err)
	}
	t := bilingual.Text{}
	if title != "" {
		_ = json.Unmarshal([]byte(title), &t) // written by relay/findings; an unreadable one is shown as typed
	}
	if !t.Complete() {
		t = bilingual.New(text, text)
	}
	return t, nil
}
