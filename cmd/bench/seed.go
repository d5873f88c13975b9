package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/qianliyan/qianliyan/relay/seed"
)

const seedUsage = `Writes a duty room's relay with months of recorded work (relay/seed):
DIR/relay.yaml (sites over ~12 districts of every site type, their cameras,
shifts, the supervisor sup / sup-password-1, the duty officers duty1…duty12 /
duty-password-N, a site manager per site manager-NNN / manager-password-1,
admin / admin-password-1) and the relay's data in DIR/data: findings with
their history, evidence (one snapshot and one playable clip, stored once),
checklist runs and review marks. Then: bin/relay -config DIR/relay.yaml.
The same --seed and --now give the same record.`

type seedConfig struct {
	dir  string
	o    seed.Options
	json bool
}

func parseSeed(args []string, stderr io.Writer) (seedConfig, error) {
	var c seedConfig
	fs := newFlagSet("seed", seedUsage, stderr)
	fs.StringVar(&c.dir, "dir", "", "directory to write relay.yaml and data/ in (required; data/relay.db must not exist)")
	fs.IntVar(&c.o.Sites, "sites", 119, "sites (1 to 999)")
	fs.IntVar(&c.o.Findings, "findings", 10000, "findings (1 to 10000000)")
	fs.IntVar(&c.o.Days, "days", 90, "days before --now the findings are spread over (1 to 3650)")
	fs.Float64Var(&c.o.EventsPerFinding, "events-per-finding", 5, "the least mean length of a finding's history (1 to 20)")
	fs.Int64Var(&c.o.Seed, "seed", 1, "seed of the generator (not 0)")
	now := fs.String("now", "", "where the record ends, RFC 3339 (default: now, to the minute)")
	fs.StringVar(&c.o.Listen, "listen", "127.0.0.1:8080", "relay.yaml's listen address")
	fs.BoolVar(&c.json, "json", false, "print the summary as JSON")
	if err := parse(fs, args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, badf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.dir == "":
		return c, badf("--dir is required")
	case c.o.Sites < 1 || c.o.Sites > 999:
		return c, badf("--sites %d: want 1 to 999", c.o.Sites)
	case c.o.Findings < 1 || c.o.Findings > 10_000_000:
		return c, badf("--findings %d: want 1 to 10000000", c.o.Findings)
	case c.o.Days < 1 || c.o.Days > 3650:
		return c, badf("--days %d: want 1 to 3650", c.o.Days)
	case c.o.EventsPerFinding < 1 || c.o.EventsPerFinding > 20:
		return c, badf("--events-per-finding %v: want 1 to 20", c.o.EventsPerFinding)
	case c.o.Seed == 0:
		return c, badf("--seed 0: want another number")
	}
	if *now != "" {
		t, err := time.Parse(time.RFC3339, *now)
		if err != nil {
			return c, badf("--now %q: want RFC 3339, e.g. 2026-12-02T08:00:00+08:00", *now)
		}
		c.o.Now = t
	}
	return c, nil
}

func runSeed(ctx context.Context, c seedConfig, stdout, stderr io.Writer) error {
	begun := time.Now()
	c.o.Progress = func(n int) {
		if n%100000 == 0 {
			fmt.Fprintf(stderr, "  %d findings (%v)\n", n, time.Since(begun).Round(time.Second))
		}
	}
	sum, err := seed.Write(ctx, c.dir, c.o)
	if err != nil {
		return err
	}
	if c.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	fmt.Fprintf(stdout, "seeded %s in %v: %d sites (%d districts, %d cameras), %d findings, %d events, %d runs, %d reviewed, %d comments, %d outcomes\n",
		c.dir, sum.Took.Round(100*time.Millisecond), sum.Sites, sum.Districts, sum.Cameras, sum.Findings, sum.Events, sum.Runs,
		sum.Reviewed, sum.Comments, sum.Outcomes)
	fmt.Fprintf(stdout, "record ends %s; supervisor %s / %s, duty %s / %s\nstart it: bin/relay -config %s\n",
		sum.Now.Format(time.RFC3339), seed.SupervisorName, seed.SupervisorPassword, seed.DutyName, seed.DutyPassword, sum.Config)
	return nil
}
