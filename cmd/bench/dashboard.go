package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/coverage"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/runs"
	"github.com/qianliyan/qianliyan/relay/seed"
	"github.com/qianliyan/qianliyan/relay/shifts"
	"github.com/qianliyan/qianliyan/relay/stats"
	"github.com/qianliyan/qianliyan/relay/store"
)

const dashboardUsage = `Times the supervisors' statistics (relay/stats, as GET /api/v1/stats/...
answers them) on a record bench seed wrote: each chart of the dashboard
under a table of filters (--list prints it), p50, p95 and max over --runs
runs after one warm-up, as the supervisor, the clock at the seed's end.`

type dashboardConfig struct {
	dir  string
	runs int
	only string
	list bool
	json bool
}

func parseDashboard(args []string, stderr io.Writer) (dashboardConfig, error) {
	var c dashboardConfig
	fs := newFlagSet("dashboard", dashboardUsage, stderr)
	fs.StringVar(&c.dir, "dir", "", "the directory bench seed wrote (required)")
	fs.IntVar(&c.runs, "runs", 10, "timed runs of each chart (1 to 1000)")
	fs.StringVar(&c.only, "only", "", "only the cases whose name contains this")
	fs.BoolVar(&c.list, "list", false, "print the table of cases and stop")
	fs.BoolVar(&c.json, "json", false, "print the results as JSON")
	if err := parse(fs, args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, badf("unexpected argument %q", fs.Arg(0))
	}
	if c.dir == "" && !c.list {
		return c, badf("--dir is required")
	}
	if c.runs < 1 || c.runs > 1000 {
		return c, badf("--runs %d: want 1 to 1000", c.runs)
	}
	return c, nil
}

// dashboardCase is one chart under one filter: the statistic and its
// query string (the filter and the statistic's own parameters).
type dashboardCase struct {
	name, stat, query string
}

// The dashboard's charts, each under the filters a supervisor starts from:
// everything, the last 30 days, a quarter of one district, the overdue.
var dashboardCases = func() []dashboardCase {
	filters := []struct{ name, q string }{
		{"everything", ""},
		{"30 days", "from=2026-11-03&to=2026-12-02"},
		{"quarter + district", "from=2026-09-01&to=2026-12-02&district=朝阳区"},
		{"overdue", "overdue=1"},
	}
	charts := []struct{ name, stat, q string }{
		{"by day × severity", "findings", "group=day&split=severity"},
		{"by week × template", "findings", "group=week&split=template"},
		{"by template × severity", "findings", "group=template&split=severity"},
		{"by district", "findings", "group=district"},
		{"by site", "findings", "group=site"},
		{"by deviation", "findings", "group=deviation"},
		{"rectification by district", "rectification", "group=district"},
		{"overdue ages", "overdue", ""},
		{"repeats 30 days", "repeats", "days=30"},
		{"sites ranked", "sites", "limit=20"},
	}
	var out []dashboardCase
	for _, f := range filters {
		for _, c := range charts {
			q := strings.Trim(f.q+"&"+c.q, "&")
			out = append(out, dashboardCase{name: c.name + ", " + f.name, stat: c.stat, query: q})
		}
	}
	return append(out, dashboardCase{"coverage per shift, 7 days", "coverage", "from=2026-11-26&to=2026-12-02"})
}()

type dashboardResult struct {
	Name  string        `json:"name"`
	Query string        `json:"query"`
	P50   time.Duration `json:"p50_ns"`
	P95   time.Duration `json:"p95_ns"`
	Max   time.Duration `json:"max_ns"`
	CPU   time.Duration `json:"cpu_ns"`
}

func runDashboard(ctx context.Context, c dashboardConfig, stdout io.Writer) error {
	if c.list {
		for _, dc := range dashboardCases {
			fmt.Fprintf(stdout, "%-50s %s?%s\n", dc.name, dc.stat, dc.query)
		}
		return nil
	}
	sum, err := seed.ReadSummary(c.dir)
	if err != nil {
		return err
	}
	db, err := store.OpenDatabase(ctx, filepath.Join(c.dir, seed.DataDir, "relay.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	now := func() time.Time { return sum.Now }
	st := store.New(db)
	finds, err := findings.New(findings.Config{DB: db, Sites: st, EvidenceDir: filepath.Join(c.dir, seed.DataDir, "evidence"), Now: now})
	if err != nil {
		return err
	}
	rv, err := review.New(review.Config{DB: db, Findings: finds, Runs: runs.New(db), Now: now, Log: zerolog.Nop()})
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return fmt.Errorf("the duty room's time zone: %w", err)
	}
	// The seed's shifts (relay/seed's relay.yaml): day and night.
	sched, err := shifts.NewSchedule(loc, []shifts.Def{
		{ID: "day", Start: 8 * 60, Name: bilingual.New("白班", "Day")},
		{ID: "night", Start: 20 * 60, Name: bilingual.New("夜班", "Night")},
	})
	if err != nil {
		return err
	}
	cov := coverage.New(coverage.Config{DB: db, Catalogue: st, Schedule: sched, Now: now})
	sv, err := stats.New(stats.Config{DB: db, Review: rv, Catalogue: st, Coverage: cov, Schedule: sched, Now: now})
	if err != nil {
		return err
	}
	sup := auth.Principal{Name: seed.SupervisorName, Role: auth.RoleSupervisor}
	call := map[string]func(q url.Values) error{
		"findings":      func(q url.Values) error { _, err := sv.Findings(ctx, sup, q); return err },
		"rectification": func(q url.Values) error { _, err := sv.Rectification(ctx, sup, q); return err },
		"overdue":       func(q url.Values) error { _, err := sv.Overdue(ctx, sup, q); return err },
		"repeats":       func(q url.Values) error { _, err := sv.Repeats(ctx, sup, q); return err },
		"sites":         func(q url.Values) error { _, err := sv.Sites(ctx, sup, q); return err },
		"coverage":      func(q url.Values) error { _, err := sv.Coverage(ctx, sup, q); return err },
	}
	m := thisMachine()
	if !c.json {
		fmt.Fprintf(stdout, "dashboard: %d findings, %d events (%s); %d runs each after a warm-up\nmachine: %d CPUs, %s, %s\n",
			sum.Findings, sum.Events, c.dir, c.runs, m.CPUs, m.Model, m.Go)
		fmt.Fprintf(stdout, "%-50s %8s %8s %8s %8s\n", "chart", "p50", "p95", "max", "cpu")
	}
	var results []dashboardResult
	for _, dc := range dashboardCases {
		if c.only != "" && !strings.Contains(dc.name, c.only) {
			continue
		}
		q, err := url.ParseQuery(dc.query)
		if err != nil {
			return err
		}
		res := dashboardResult{Name: dc.name, Query: dc.stat + "?" + dc.query}
		took := make([]time.Duration, 0, c.runs)
		var cpu0 time.Duration
		for i := -1; i < c.runs; i++ { // the first, a warm-up, is not counted
			if i == 0 {
				cpu0 = cpuTime()
			}
			begun := time.Now()
			if err := call[dc.stat](q); err != nil {
				return fmt.Errorf("%s (%s): %w", dc.name, res.Query, err)
			}
			if i >= 0 {
				took = append(took, time.Since(begun))
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		res.CPU = (cpuTime() - cpu0) / time.Duration(c.runs)
		slices.Sort(took)
		res.P50, res.P95, res.Max = took[len(took)/2], took[min(len(took)-1, (len(took)*95+99)/100-1)], took[len(took)-1]
		results = append(results, res)
		if !c.json {
			fmt.Fprintf(stdout, "%-50s %8s %8s %8s %8s\n", res.Name, millis(res.P50), millis(res.P95), millis(res.Max), millis(res.CPU))
		}
	}
	if c.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"machine": m, "findings": sum.Findings, "events": sum.Events, "runs": c.runs, "results": results})
	}
	return nil
}
