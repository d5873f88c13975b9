package main

import (
	"context"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/coverage"
	"github.com/qianliyan/qianliyan/relay/store"
)

// localLayouts are the times --from and --to take besides RFC 3339, in
// --time-zone.
var localLayouts = []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

func parseWhen(flag, v string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--%s %q: want e.g. 2026-12-02T08:00 (in --time-zone) or 2026-12-02T08:00:00+08:00", flag, v)
}

// coverageWatches prints the audit trail: who had which camera on screen
// when, by the relay's clock, oldest first.
func coverageWatches(ctx context.Context, a *adminCtx, args []string) error {
	fs := a.flags("coverage watches")
	from := fs.String("from", "", "start of the period (required)")
	to := fs.String("to", "", "end of the period (default now)")
	zone := fs.String("time-zone", "Asia/Shanghai", "time zone of --from, --to and the times printed")
	officer := fs.String("officer", "", "this officer's watches only")
	site := fs.String("site", "", "this site's cameras only")
	camera := fs.String("camera", "", "this camera only (with --site)")
	limit := fs.Int("limit", coverage.MaxWatches, fmt.Sprintf("print at most this many (1 to %d)", coverage.MaxWatches))
	if _, err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	loc, err := time.LoadLocation(*zone)
	if err != nil {
		return usagef("--time-zone %q: unknown", *zone)
	}
	if *from == "" {
		return usagef("coverage watches: --from is required")
	}
	q := coverage.WatchQuery{Officer: *officer, Site: *site, Camera: *camera, Limit: *limit, To: time.Now()}
	if q.From, err = parseWhen("from", *from, loc); err != nil {
		return err
	}
	if *to != "" {
		if q.To, err = parseWhen("to", *to, loc); err != nil {
			return err
		}
	}
	if !q.To.After(q.From) {
		return usagef("--to must be after --from")
	}
	if *limit < 1 || *limit > coverage.MaxWatches {
		return usagef("--limit %d: want 1 to %d", *limit, coverage.MaxWatches)
	}
	if a.data == "" {
		return usagef("--data must not be empty")
	}
	db, err := store.OpenDatabase(ctx, filepath.Join(a.data, relay.DatabaseFile))
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := coverage.New(coverage.Config{DB: db}).Watches(ctx, q)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tEND\tOFFICER\tCAMERA\tZONE\tMODE\tCONSOLE")
	const layout = "2006-01-02 15:04:05"
	for _, w := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s/%s\t%s\t%s\t%s\n", w.Start.In(loc).Format(layout), w.End.In(loc).Format(layout),
			w.Officer, w.Site, w.Camera, w.Zone, w.Mode, w.Console)
	}
	if len(list) == *limit {
		fmt.Fprintf(tw, "(the first %d; narrow the period or raise --limit)\n", *limit)
	}
	return tw.Flush()
}
