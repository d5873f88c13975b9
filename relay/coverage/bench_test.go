package coverage

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/shifts"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
)

// Benchmark scale (issue 11): 119 sites of 8 cameras, a 30-day month, 3
// officers on duty round the clock.
const (
	benchSites, benchCameras, benchDays, benchOfficers = 119, 8, 30, 3
	// Each officer's wall is a page of 3×3 tiles touring every camera,
	// 5 minutes a page with 2 s between pages; every fourth page they
	// focus one of its cameras for its last minute (the wall hidden).
	pageTiles = 9
	pageTime  = 5 * time.Minute
	pageGap   = 2 * time.Second
)

// monthOfWatching fills a coverage store with a month of the officers'
// intervals, recorded as Record records them (intervals and their union
// per camera), in one transaction for speed; it returns the store, the
// month's start and how many intervals it holds.
func monthOfWatching(b *testing.B) (*Store, time.Time, int) {
	b.Helper()
	ctx := context.Background()
	db, st := storetest.Open(b)
	positions := []string{"doffing_room_1", "doffing_room_2", "waste_storage", "entrance", "staff_passage", "isolated_passage", "donning_room", "corridor"}
	type cam struct{ site, id, zone string }
	var all []cam
	for i := 1; i <= benchSites; i++ {
		id := fmt.Sprintf("site-%03d", i)
		cams := make([]store.Camera, benchCameras)
		for j := range cams {
			cams[j] = store.Camera{Site: id, ID: fmt.Sprintf("cam%d", j+1), Zone: positions[j], Name: bilingual.New("c", "c")}
			all = append(all, cam{id, cams[j].ID, cams[j].Zone})
		}
		if err := st.PutSite(ctx, store.Site{ID: id, Name: bilingual.New(id, id), District: bilingual.New("d", "d"), TimeZone: "Asia/Shanghai"}, cams); err != nil {
			b.Fatal(err)
		}
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	month := time.Date(2026, 11, 1, 8, 0, 0, 0, loc)
	end := month.AddDate(0, 0, benchDays)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO watch_intervals (id, console, officer, site_id, camera_id, zone, mode,
		start_ms, end_ms, sent_start_ms, sent_end_ms, skew_ms, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	add := func(officer string, c cam, mode string, from, to time.Time) {
		n++
		s, e := ms(from), ms(to)
		if _, err := ins.ExecContext(ctx, fmt.Sprintf("w%d", n), "console-"+officer, officer, c.site, c.id, c.zone, mode, s, e, s, e,
			sqlitedb.FormatTime(to)); err != nil {
			b.Fatal(err)
		}
		if err := addSpan(ctx, tx, c.site, c.id, c.zone, s, e); err != nil {
			b.Fatal(err)
		}
	}
	for o := range benchOfficers {
		officer := fmt.Sprintf("officer-%d", o+1)
		next := o * len(all) / benchOfficers // each starts a third of the way round
		for page, at := 0, month; at.Before(end); page, at = page+1, at.Add(pageTime+pageGap) {
			tilesUntil := at.Add(pageTime)
			focus := page%4 == 3
			if focus {
				tilesUntil = at.Add(pageTime - time.Minute)
			}
			for k := range pageTiles {
				add(officer, all[(next+k)%len(all)], "tile", at, tilesUntil)
			}
			if focus {
				add(officer, all[(next+page%pageTiles)%len(all)], "focus", tilesUntil, at.Add(pageTime))
			}
			next = (next + pageTiles) % len(all)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	sched, err := shifts.NewSchedule(loc, []shifts.Def{{ID: "day", Start: 8 * 60}, {ID: "night", Start: 20 * 60}})
	if err != nil {
		b.Fatal(err)
	}
	clock := fakeclock.New(end)
	s := New(Config{DB: db, Catalogue: st, Schedule: sched, Now: clock.Now,
		Policies: map[string]Policy{
			"doffing_room_1": {MaxGap: time.Hour, MinPerShift: 10 * time.Minute},
			"doffing_room_2": {MaxGap: time.Hour, MinPerShift: 10 * time.Minute},
			"waste_storage":  {OncePerShift: true},
		},
		KeyMoments: []MomentDef{
			{ID: "meal_delivery", Times: []int{7 * 60, 11*60 + 30, 17*60 + 30}, Zones: []string{"entrance"}, Window: 30 * time.Minute},
			{ID: "waste_pickup", Times: []int{15 * 60}, Zones: []string{"waste_storage"}, Window: 30 * time.Minute},
		}})
	return s, month, n
}

// BenchmarkCoverage answers, over a month of intervals: the month's
// coverage of every site, zone and camera; the last shift's, with the
// policy and key moments evaluated; and the zones unwatched at the end.
// Run: go test -run '^$' -bench BenchmarkCoverage -benchtime 20x ./relay/coverage/
func BenchmarkCoverage(b *testing.B) {
	s, month, n := monthOfWatching(b)
	ctx := context.Background()
	end := month.AddDate(0, 0, benchDays)
	var spans int
	if err := s.DB.QueryRow(`SELECT count(*) FROM watch_spans`).Scan(&spans); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d intervals, %d spans", n, spans)
	// The query plans docs/PERFORMANCE.md shows.
	for _, q := range []string{
		`SELECT site_id, camera_id, SUM(watched_ms) FROM watch_days WHERE day >= 1 AND day < 2 GROUP BY site_id, camera_id`,
		`SELECT site_id, camera_id, SUM(MIN(end_ms, 1) - MAX(start_ms, 1)) FROM watch_spans INDEXED BY watch_spans_day
			WHERE day BETWEEN 1 AND 1 AND start_ms < 1 AND end_ms > 1 GROUP BY site_id, camera_id`,
		`SELECT site_id, camera_id, start_ms, end_ms FROM watch_spans INDEXED BY watch_spans_day WHERE day BETWEEN 1 AND 2 AND start_ms < 1 AND end_ms > 1 ORDER BY start_ms`,
	} {
		rows, err := s.DB.Query(`EXPLAIN QUERY PLAN ` + q)
		if err != nil {
			b.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				b.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		b.Logf("%s\n  -> %s", strings.Join(strings.Fields(q), " "), strings.Join(plan, "; "))
	}
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"month", func() error {
			rep, err := s.Report(ctx, Query{From: month, To: end})
			if err == nil && len(rep.Sites) != benchSites {
				err = fmt.Errorf("%d sites", len(rep.Sites))
			}
			return err
		}},
		{"shift", func() error {
			rep, err := s.Report(ctx, Query{From: end.Add(-12 * time.Hour), To: end})
			if err == nil && (rep.Shift == nil || rep.Sites[0].PolicyMet == nil) {
				err = fmt.Errorf("the shift's policy is not evaluated")
			}
			return err
		}},
		{"unwatched", func() error { _, err := s.Unwatched(ctx, end); return err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			before := cpuTime(b)
			for b.Loop() {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
			// The machine is shared: the CPU the process spent tells the
			// query's cost apart from the time it waited for a core.
			b.ReportMetric(float64((cpuTime(b)-before)/time.Microsecond)/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time (user and system) the process has spent.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
