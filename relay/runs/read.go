package runs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// The step counts of a run, in SQL over run_steps as r: a step observed is
// one whose last mark is done or a deviation (not seen and unmarked are not
// observations); one done correctly is done and flagged by no rule.
const (
	observedSQL = `(SELECT count(*) FROM run_steps s WHERE s.run_id = r.id AND s.mark IN ('done', 'deviation'))`
	correctSQL  = `(SELECT count(*) FROM run_steps s WHERE s.run_id = r.id AND s.mark = 'done' AND s.flagged = 0)`
)

// Filter selects runs; zero fields select all.
type Filter struct {
	Site, Activity, Officer string
	// From and To bound when the runs started: [From, To).
	From, To time.Time
	// Ended selects ended runs (true) or those going on (false).
	Ended *bool
	Limit int
}

// maxList bounds one list's runs.
const maxList = 1000

// List returns the runs p may see (those of sites they may view), newest
// first.
func (s *Store) List(ctx context.Context, p auth.Principal, f Filter) ([]wire.Run, error) {
	if p.Role == auth.RoleSiteManager {
		// Runs are the city's record of its officers' work, not the site's.
		return nil, fault.New(fault.Forbidden, "forbidden", "a site manager does not read checklist runs")
	}
	var where []string
	var args []any
	for col, v := range map[string]string{"site": f.Site, "activity": f.Activity, "officer": f.Officer} {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	if !f.From.IsZero() {
		where = append(where, "started_at >= ?")
		args = append(args, sqlitedb.FormatTime(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "started_at < ?")
		args = append(args, sqlitedb.FormatTime(f.To))
	}
	if f.Ended != nil {
		if *f.Ended {
			where = append(where, "ended_at != ''")
		} else {
			where = append(where, "ended_at = ''")
		}
	}
	q := `SELECT id FROM runs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > maxList {
		limit = maxList
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY started_at DESC, id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing runs: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	out := make([]wire.Run, 0, len(ids))
	for _, id := range ids {
		r, err := s.get(ctx, id)
		if err != nil {
			return nil, err
		}
		if p.CanView(r.Site) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Get returns one run.
func (s *Store) Get(ctx context.Context, p auth.Principal, id string) (wire.Run, error) {
	if p.Role == auth.RoleSiteManager {
		return wire.Run{}, fault.New(fault.Forbidden, "forbidden", "a site manager does not read checklist runs")
	}
	return s.get(ctx, id)
}

func (s *Store) get(ctx context.Context, id string) (wire.Run, error) {
	var r wire.Run
	var started, ended, tpl string
	err := s.db.QueryRowContext(ctx, `SELECT r.id, r.site, r.camera, r.template_id, r.template_version, r.activity, r.officer,
		r.started_at, r.ended_at, r.seq, r.template, `+observedSQL+`, `+correctSQL+` FROM runs r WHERE r.id = ?`, id).
		Scan(&r.ID, &r.Site, &r.Camera, &r.TemplateID, &r.TemplateVersion, &r.Activity, &r.Officer,
			&started, &ended, &r.Seq, &tpl, &r.StepsObserved, &r.StepsCorrect)
	if errors.Is(err, sql.ErrNoRows) {
		return wire.Run{}, fault.New(fault.NotFound, "unknown_run", "no run %q", id)
	}
	if err != nil {
		return wire.Run{}, fmt.Errorf("reading run %s: %w", id, err)
	}
	r.StartedAt, _ = sqlitedb.ParseTime(started)
	if ended != "" {
		t, _ := sqlitedb.ParseTime(ended)
		r.EndedAt = &t
	}
	var t wire.RunTemplate
	if err := json.Unmarshal([]byte(tpl), &t); err != nil {
		return wire.Run{}, fmt.Errorf("reading the template of run %s: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT step, mark, deviation, deviation_text, at, duration_ms, flagged
		FROM run_steps WHERE run_id = ?`, id)
	if err != nil {
		return wire.Run{}, fmt.Errorf("reading the marks of run %s: %w", id, err)
	}
	defer rows.Close()
	r.Observations = []wire.RunObservation{}
	for rows.Next() {
		var o wire.RunObservation
		var at string
		if err := rows.Scan(&o.Step, &o.Mark, &o.Deviation, &o.DeviationText, &at, &o.DurationMS, &o.Flagged); err != nil {
			return wire.Run{}, fmt.Errorf("reading the marks of run %s: %w", id, err)
		}
		if at != "" {
			o.At, _ = sqlitedb.ParseTime(at)
		}
		r.Observations = append(r.Observations, o)
	}
	if err := rows.Err(); err != nil {
		return wire.Run{}, fmt.Errorf("reading the marks of run %s: %w", id, err)
	}
	// In the template's order, as the console lists them.
	slices.SortFunc(r.Observations, func(a, b wire.RunObservation) int {
		return slices.Index(t.Steps, a.Step) - slices.Index(t.Steps, b.Step)
	})
	r.Findings = []string{}
	frows, err := s.db.QueryContext(ctx, `SELECT finding_id FROM run_findings WHERE run_id = ? ORDER BY seq`, id)
	if err != nil {
		return wire.Run{}, fmt.Errorf("reading the findings of run %s: %w", id, err)
	}
	defer frows.Close()
	for frows.Next() {
		var f string
		if err := frows.Scan(&f); err != nil {
			return wire.Run{}, fmt.Errorf("reading the findings of run %s: %w", id, err)
		}
		r.Findings = append(r.Findings, f)
	}
	return r, frows.Err()
}

// Period is the span statistics count over: runs ended in [From, To).
type Period struct {
	Site, Activity string
	From, To       time.Time
	// By is what a row is: BySite (a site and activity, the default),
	// ByActivity (an activity, over every site) or ByTemplate (a checklist
	// template, over every site), the dashboard's checks by activity.
	By string
}

// What a row of the checks statistics is.
const (
	BySite     = "site"
	ByActivity = "activity"
	ByTemplate = "template"
)

// Checks counts, per site and activity, the runs ended in the period
// (checks performed, 户次), the steps observed and done correctly in them,
// the deviations (observed less correct) and the compliance rate (correct
// over observed), as docs/PROTOCOLS.md defines them. Runs still going on
// count when they end.
func (s *Store) Checks(ctx context.Context, p auth.Principal, per Period) (wire.CheckStats, error) {
	if p.Role == auth.RoleSiteManager {
		return wire.CheckStats{}, fault.New(fault.Forbidden, "forbidden", "a site manager does not read the checks statistics")
	}
	if per.From.IsZero() || per.To.IsZero() {
		return wire.CheckStats{}, fault.Field("from", "from and to are both required")
	}
	if !per.From.Before(per.To) {
		return wire.CheckStats{}, refuse(fault.Invalid, "invalid_field", "to", "to: %s is not after from %s",
			per.To.Format(time.RFC3339), per.From.Format(time.RFC3339))
	}
	// The row's columns: site, activity and template, '' where a row is
	// not one of them (max(activity) of a template's runs: a template is
	// one activity's).
	cols, group := `site, activity, ''`, `site, activity`
	switch per.By {
	case "", BySite:
	case ByActivity:
		cols, group = `'', activity, ''`, `activity`
	case ByTemplate:
		cols, group = `'', max(activity), template_id`, `template_id`
	default:
		return wire.CheckStats{}, fault.Field("by", "%q: want site, activity or template", per.By)
	}
	q := `SELECT ` + cols + `, count(*), coalesce(sum(observed), 0), coalesce(sum(correct), 0) FROM (
		SELECT r.site, r.activity, r.template_id, ` + observedSQL + ` AS observed, ` + correctSQL + ` AS correct FROM runs r
		WHERE r.ended_at != '' AND r.ended_at >= ? AND r.ended_at < ?`
	args := []any{sqlitedb.FormatTime(per.From), sqlitedb.FormatTime(per.To)}
	if per.Site != "" {
		q += ` AND r.site = ?`
		args = append(args, per.Site)
	}
	if per.Activity != "" {
		q += ` AND r.activity = ?`
		args = append(args, per.Activity)
	}
	q += `) GROUP BY ` + group + ` ORDER BY ` + group
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return wire.CheckStats{}, fmt.Errorf("counting checks: %w", err)
	}
	defer rows.Close()
	out := wire.CheckStats{From: per.From.UTC(), To: per.To.UTC(), Stats: []wire.CheckStat{}}
	for rows.Next() {
		var c wire.CheckStat
		if err := rows.Scan(&c.Site, &c.Activity, &c.Template, &c.Checks, &c.StepsObserved, &c.StepsCorrect); err != nil {
			return wire.CheckStats{}, fmt.Errorf("counting checks: %w", err)
		}
		c.Deviations = c.StepsObserved - c.StepsCorrect
		if c.StepsObserved > 0 {
			rate := float64(c.StepsCorrect) / float64(c.StepsObserved)
			c.ComplianceRate = &rate
		}
		if c.Site == "" || p.CanView(c.Site) {
			out.Stats = append(out.Stats, c)
		}
	}
	return out, rows.Err()
}
