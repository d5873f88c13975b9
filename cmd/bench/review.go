package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/runs"
	"github.com/qianliyan/qianliyan/relay/seed"
	"github.com/qianliyan/qianliyan/relay/store"
)

const reviewUsage = `Times the review list (relay/review: the filter's count and the first page
of 50, as GET /api/v1/review/findings answers them) on a record bench seed
wrote, for each filter of a table (--list prints it): p50, p95 and max over
--runs runs after one warm-up, as the supervisor. The clock of overdue is
the seed's end (DIR/seed.json). --explain prints SQLite's query plan of each
filter's count and first page.`

type reviewConfig struct {
	dir     string
	runs    int
	only    string
	explain bool
	list    bool
	json    bool
}

// reviewCase is one filter of the table: the review list's query string,
// and how many pages deep it is timed (0: the first page).
type reviewCase struct {
	name  string
	query string
	depth int
}

// reviewCases are the filter combinations the supervisors' workspace asks,
// one at a time and together, every sort, a search, and a page deep in the
// list.
var reviewCases = []reviewCase{
	{"everything", "", 0},
	{"last 7 days", "from=2026-11-26&to=2026-12-02", 0},
	{"district", "district=朝阳区", 0},
	{"district + overdue", "district=朝阳区&overdue=1", 0},
	{"site", "site=site-007", 0},
	{"site type", "site_type=dormitory", 0},
	{"template", "template=ppe-doffing", 0},
	{"free text (template -)", "template=-", 0},
	{"deviation", "deviation=bypass-doffing", 0},
	{"severity", "severity=critical", 0},
	{"status", "status=open,acknowledged", 0},
	{"officer", "officer=duty1", 0},
	{"overdue", "overdue=1", 0},
	{"not overdue", "overdue=0", 0},
	{"not reviewed", "reviewed=0", 0},
	{"reviewed", "reviewed=1", 0},
	{"any outcome", "outcome=any", 0},
	{"no outcome", "outcome=none", 0},
	{"suspend order", "outcome=suspend_order", 0},
	{"repeat 7 days", "repeat=7", 0},
	{"repeat 30 days + site", "repeat=30&site=site-003", 0},
	{"search 整改", "q=整改", 0},
	{"search 消毒 + district", "q=消毒&district=海淀区", 0},
	{"search English", "q=corridor", 0},
	{"month + district + critical + open + not reviewed", "from=2026-11-01&to=2026-11-30&district=丰台区&severity=critical&status=open&reviewed=0", 0},
	{"quarter + type + template + overdue", "from=2026-09-01&to=2026-12-02&site_type=hotel&template=waste-transfer&overdue=1", 0},
	{"two districts + officer + status", "district=东城区,西城区&officer=duty4&status=verified", 0},
	{"sort deadline, overdue", "sort=deadline&overdue=1", 0},
	{"sort -deadline", "sort=-deadline", 0},
	{"sort observed_at", "sort=observed_at", 0},
	{"sort severity", "sort=severity", 0},
	{"sort site", "sort=site", 0},
	{"sort severity + district", "sort=severity&district=朝阳区", 0},
	{"page 100 (after 99 pages)", "", 99},
	{"page 50 of critical", "severity=critical", 49},
	// The view's first-page benchmark's filters (e2e BenchmarkReviewFirstPage) not above.
	{"hotel + not overdue", "site_type=hotel&overdue=0", 0},
	{"no outcome, sort site", "outcome=none&sort=site", 0},
	{"not reviewed, sort deadline", "reviewed=0&sort=deadline", 0},
	{"open or reopened", "status=open,reopened", 0},
	{"repeat 30 days", "repeat=30", 0},
	// A search's other pages and orders, and with a condition the index
	// does not hold (migration 0027 holds the sites).
	{"search 整改, page 20", "q=整改", 19},
	{"search 消毒 + district, oldest first", "q=消毒&district=海淀区&sort=observed_at", 0},
	{"search 消毒, sort deadline", "q=消毒&sort=deadline", 0},
	{"search 整改 + open", "q=整改&status=open", 0},
	{"search 消毒 + hotel + month", "q=消毒&site_type=hotel&from=2026-11-01&to=2026-11-30", 0},
	{"search 消毒, last 7 days", "q=消毒&from=2026-11-26&to=2026-12-02", 0},
	{"search 整改 + district, quarter", "q=整改&district=朝阳区&from=2026-09-01&to=2026-11-30", 0},
	// A search with the review's marks, overdue, the other orders, and
	// conditions of many findings (migration 0028).
	{"search 整改 + not reviewed", "q=整改&reviewed=0", 0},
	{"search 整改 + no outcome", "q=整改&outcome=none", 0},
	{"search 整改 + repeat 30 days", "q=整改&repeat=30", 0},
	{"search 消毒 + overdue", "q=消毒&overdue=1", 0},
	{"search 整改 + district + overdue", "q=整改&district=朝阳区&overdue=1", 0},
	{"search 整改 + not overdue", "q=整改&overdue=0", 0},
	{"search 消毒 + hotel", "q=消毒&site_type=hotel", 0},
	{"search 整改 + verified", "q=整改&status=verified", 0},
	{"search 整改 + hotel + critical", "q=整改&site_type=hotel&severity=critical", 0},
	{"search 消毒, sort site", "q=消毒&sort=site", 0},
	{"search 整改, sort -deadline", "q=整改&sort=-deadline", 0},
}

func parseReview(args []string, stderr io.Writer) (reviewConfig, error) {
	var c reviewConfig
	fs := newFlagSet("review", reviewUsage, stderr)
	fs.StringVar(&c.dir, "dir", "", "the directory bench seed wrote (required)")
	fs.IntVar(&c.runs, "runs", 20, "timed runs of each filter (1 to 1000)")
	fs.StringVar(&c.only, "only", "", "only the filters whose name contains this")
	fs.BoolVar(&c.explain, "explain", false, "print each filter's query plans")
	fs.BoolVar(&c.list, "list", false, "print the table of filters and stop")
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

// reviewResult is one filter's timings.
type reviewResult struct {
	Name  string        `json:"name"`
	Query string        `json:"query"`
	Depth int           `json:"depth,omitempty"`
	Total int           `json:"total"`
	P50   time.Duration `json:"p50_ns"`
	P95   time.Duration `json:"p95_ns"`
	Max   time.Duration `json:"max_ns"`
	// CPU is the process's user and system time over the timed runs a
	// run: what a query costs a free core, whatever the machine's load.
	CPU time.Duration `json:"cpu_ns"`
}

func runReview(ctx context.Context, c reviewConfig, stdout io.Writer) error {
	if c.list {
		for _, rc := range reviewCases {
			fmt.Fprintf(stdout, "%-50s %s%s\n", rc.name, rc.query, map[bool]string{true: fmt.Sprintf(" (page %d)", rc.depth+1), false: ""}[rc.depth > 0])
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
	finds, err := findings.New(findings.Config{DB: db, Sites: store.New(db), EvidenceDir: filepath.Join(c.dir, seed.DataDir, "evidence"), Now: now})
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
	sup := auth.Principal{Name: seed.SupervisorName, Role: auth.RoleSupervisor}
	m := thisMachine()
	if !c.json {
		fmt.Fprintf(stdout, "review: %d findings, %d events (%s); %d runs each after a warm-up\nmachine: %d CPUs, %s, %s\n",
			sum.Findings, sum.Events, c.dir, c.runs, m.CPUs, m.Model, m.Go)
		fmt.Fprintf(stdout, "%-50s %8s %8s %8s %8s %8s\n", "filter", "total", "p50", "p95", "max", "cpu")
	}
	var results []reviewResult
	for _, rc := range reviewCases {
		if c.only != "" && !strings.Contains(rc.name, c.only) {
			continue
		}
		res, err := timeCase(ctx, rv, sup, rc, c.runs, sum.Now, loc)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", rc.name, rc.query, err)
		}
		results = append(results, res)
		if !c.json {
			fmt.Fprintf(stdout, "%-50s %8d %8s %8s %8s %8s\n", rc.name, res.Total, millis(res.P50), millis(res.P95), millis(res.Max), millis(res.CPU))
		}
		if c.explain {
			if err := explain(ctx, db, rv, stdout, rc, sum.Now, loc); err != nil {
				return err
			}
		}
	}
	if c.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"machine": m, "findings": sum.Findings, "events": sum.Events, "runs": c.runs, "results": results})
	}
	return nil
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func millis(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// pageOf is a case's filter and its page, the cursor walked to its depth.
func pageOf(ctx context.Context, rv *review.Store, sup auth.Principal, rc reviewCase, now time.Time, loc *time.Location) (review.Filter, review.Page, error) {
	q, err := url.ParseQuery(rc.query)
	if err != nil {
		return review.Filter{}, review.Page{}, err
	}
	p, err := review.ParsePage(q)
	if err != nil {
		return review.Filter{}, review.Page{}, err
	}
	f, err := review.ParseFilter(q, now, loc)
	if err != nil {
		return review.Filter{}, review.Page{}, err
	}
	for range rc.depth {
		page, err := rv.List(ctx, sup, f, p)
		if err != nil {
			return review.Filter{}, review.Page{}, err
		}
		if page.Next == "" {
			return review.Filter{}, review.Page{}, fmt.Errorf("the list ends before page %d", rc.depth+1)
		}
		p.After = page.Next
	}
	return f, p, nil
}

// timeCase times the page of rc (its count and its items) runs times.
func timeCase(ctx context.Context, rv *review.Store, sup auth.Principal, rc reviewCase, runs int, now time.Time, loc *time.Location) (reviewResult, error) {
	f, p, err := pageOf(ctx, rv, sup, rc, now, loc)
	if err != nil {
		return reviewResult{}, err
	}
	res := reviewResult{Name: rc.name, Query: rc.query, Depth: rc.depth}
	took := make([]time.Duration, 0, runs)
	var cpu0 time.Duration
	for i := -1; i < runs; i++ { // the first, a warm-up, is not counted
		if i == 0 {
			cpu0 = cpuTime()
		}
		begun := time.Now()
		page, err := rv.List(ctx, sup, f, p)
		if err != nil {
			return reviewResult{}, err
		}
		if i >= 0 {
			took = append(took, time.Since(begun))
		}
		res.Total = page.Total
		if err := ctx.Err(); err != nil {
			return reviewResult{}, err
		}
	}
	res.CPU = (cpuTime() - cpu0) / time.Duration(runs)
	slices.Sort(took)
	res.P50, res.P95, res.Max = took[len(took)/2], took[min(len(took)-1, (len(took)*95+99)/100-1)], took[len(took)-1]
	return res, nil
}

// explain prints the plans of the case's count and of its first page,
// the queries the list runs (review.Store.Queries).
func explain(ctx context.Context, db *sql.DB, rv *review.Store, w io.Writer, rc reviewCase, now time.Time, loc *time.Location) error {
	q, _ := url.ParseQuery(rc.query)
	p, err := review.ParsePage(q)
	if err != nil {
		return err
	}
	f, err := review.ParseFilter(q, now, loc)
	if err != nil {
		return err
	}
	count, countArgs, page, pageArgs, err := rv.Queries(ctx, f, p)
	if err != nil {
		return fmt.Errorf("explaining %s: %w", rc.name, err)
	}
	for _, qa := range []struct {
		query string
		args  []any
	}{{count, countArgs}, {page, pageArgs}} {
		query, args := qa.query, qa.args
		fmt.Fprintf(w, "    %s\n", query)
		rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query, args...)
		if err != nil {
			return fmt.Errorf("explaining %s: %w", rc.name, err)
		}
		depth := map[int]int{}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				rows.Close()
				return fmt.Errorf("explaining %s: %w", rc.name, err)
			}
			depth[id] = depth[parent] + 1
			fmt.Fprintf(w, "      %s%s\n", strings.Repeat("  ", depth[id]-1), detail)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("explaining %s: %w", rc.name, err)
		}
	}
	return nil
}
