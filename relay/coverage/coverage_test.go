package coverage

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/shifts"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// dayStart is 08:00 in Shanghai, the start of a day shift.
var dayStart = time.Date(2026, 12, 2, 8, 0, 0, 0, shanghai)

var positions = []store.Camera{
	{ID: "doff1", Zone: "doffing_room_1"}, {ID: "doff2", Zone: "doffing_room_2"},
	{ID: "waste", Zone: "waste_storage"}, {ID: "gate", Zone: "entrance"},
}

// newStore returns a coverage store over a real relay database with
// sites site-01… of the four demo positions, the default policy and key
// moments, and the clock.
func newStore(t testing.TB, clock *fakeclock.Clock, sites int) *Store {
	t.Helper()
	db, st := storetest.Open(t)
	for i := 1; i <= sites; i++ {
		id := fmt.Sprintf("site-%02d", i)
		cams := make([]store.Camera, len(positions))
		for j, p := range positions {
			cams[j] = store.Camera{Site: id, ID: p.ID, Zone: p.Zone, Name: bilingual.New(p.ID, p.ID)}
		}
		if err := st.PutSite(context.Background(), store.Site{ID: id, Name: bilingual.New(id, id), District: bilingual.New("d", "d"),
			TimeZone: "Asia/Shanghai"}, cams); err != nil {
			t.Fatal(err)
		}
	}
	sched, err := shifts.NewSchedule(shanghai, []shifts.Def{{ID: "day", Start: 8 * 60}, {ID: "night", Start: 20 * 60}})
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{DB: db, Catalogue: st, Schedule: sched, Now: clock.Now,
		Policies: map[string]Policy{
			"doffing_room_1": {MaxGap: time.Hour, MinPerShift: 10 * time.Minute},
			"doffing_room_2": {MaxGap: time.Hour, MinPerShift: 10 * time.Minute},
			"waste_storage":  {OncePerShift: true},
		},
		KeyMoments: []MomentDef{
			{ID: "meal_delivery", Times: []int{7 * 60, 11*60 + 30, 17*60 + 30}, Zones: []string{"meal_area", "entrance"}, Window: 30 * time.Minute},
			{ID: "waste_pickup", Times: []int{15 * 60}, Zones: []string{"waste_storage"}, Window: 30 * time.Minute},
		}})
}

func iv(id, site, cam string, start, end time.Time) wire.WatchInterval {
	return wire.WatchInterval{ID: id, Site: site, Camera: cam, Mode: wire.ModeTile, Start: start, End: end}
}

func siteOf(t *testing.T, c wire.Coverage, id string) wire.SiteCoverage {
	t.Helper()
	for _, s := range c.Sites {
		if s.Site == id {
			return s
		}
	}
	t.Fatalf("no site %s in %+v", id, c)
	return wire.SiteCoverage{}
}

func zoneOf(t *testing.T, s wire.SiteCoverage, zone string) wire.ZoneCoverage {
	t.Helper()
	for _, z := range s.Zones {
		if z.Zone == zone {
			return z
		}
	}
	t.Fatalf("no zone %s at %s", zone, s.Site)
	return wire.ZoneCoverage{}
}

// TestEightHourShift drives a tour over site-01's cameras for eight hours,
// posting its intervals every five minutes as a console does, with a
// second officer on the doffing rooms now and then; the coverage the relay
// reports is what was driven, to the second, and site-02, left out of the
// tour, is unwatched.
func TestEightHourShift(t *testing.T) {
	clock := fakeclock.New(dayStart)
	s := newStore(t, clock, 2)
	ctx := context.Background()
	want := map[string]time.Duration{} // camera → union of the officers' time
	covered := map[string][]span{}
	var pending = map[string][]wire.WatchInterval{}
	n := 0
	add := func(officer, cam string, start, end time.Time) {
		n++
		pending[officer] = append(pending[officer], iv(fmt.Sprintf("%s-%d", officer, n), "site-01", cam, start, end))
		covered[cam] = append(covered[cam], span{ms(start), ms(end)})
	}
	flush := func() {
		for officer, ivs := range pending {
			if _, err := s.Record(ctx, officer, wire.WatchBatch{Console: "console-" + officer, Now: clock.Now(), Intervals: ivs}); err != nil {
				t.Fatalf("%s's batch at %v: %v", officer, clock.Now(), err)
			}
		}
		pending = map[string][]wire.WatchInterval{}
	}
	// The tour: each camera of site-01 in turn, dwelling 37 s to 4 min
	// 13 s, a 3 s gap between; every 45 minutes officer B focuses doff1
	// for a while overlapping A's tile of it.
	tour := []string{"doff1", "doff2", "waste", "gate"}
	at := dayStart
	end := dayStart.Add(8 * time.Hour)
	i := 0
	nextFlush := dayStart.Add(5 * time.Minute)
	for at.Before(end) {
		dwell := time.Duration(37+(i*97)%217) * time.Second
		stop := at.Add(dwell)
		if stop.After(end) {
			stop = end
		}
		for clock.Now().Before(stop) {
			clock.Advance(time.Second)
		}
		add("officer-a", tour[i%len(tour)], at, stop)
		if i%15 == 0 {
			add("officer-b", "doff1", at.Add(10*time.Second), stop.Add(20*time.Second))
			for clock.Now().Before(stop.Add(20 * time.Second)) {
				clock.Advance(time.Second)
			}
		}
		if !clock.Now().Before(nextFlush) {
			flush()
			nextFlush = nextFlush.Add(5 * time.Minute)
		}
		at = stop.Add(3 * time.Second)
		i++
	}
	flush()
	for cam, spans := range covered {
		for _, sp := range merge(spans) {
			want[cam] += time.Duration(min(sp.end, ms(end))-sp.start) * time.Millisecond
		}
	}

	got, err := s.Report(ctx, Query{From: dayStart, To: end})
	if err != nil {
		t.Fatal(err)
	}
	site := siteOf(t, got, "site-01")
	for _, c := range site.Cameras {
		if w := int64(want[c.Camera] / time.Second); c.WatchedSeconds != w {
			t.Errorf("camera %s: watched %d s, want %d s", c.Camera, c.WatchedSeconds, w)
		}
	}
	if got.Shift == nil || got.Shift.ID != "day" {
		t.Errorf("shift %+v, want the day shift", got.Shift)
	}
	if site.PolicyMet == nil || !*site.PolicyMet || site.Unwatched {
		t.Errorf("site-01 toured all day: policy met %v, unwatched %v; zones %+v", site.PolicyMet, site.Unwatched, site.Zones)
	}
	other := siteOf(t, got, "site-02")
	if other.WatchedSeconds != 0 || other.PolicyMet == nil || *other.PolicyMet || !other.Unwatched {
		t.Errorf("site-02 never watched: %+v", other)
	}
	unwatched, err := s.Unwatched(ctx, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(unwatched.Zones) != 2 || unwatched.Zones[0].Site != "site-02" || unwatched.Zones[1].Site != "site-02" {
		t.Errorf("unwatched at the end: %+v, want site-02's two doffing rooms", unwatched.Zones)
	}
}

// TestUnwatchedAtExactlyThePolicyLimit: a doffing room seen until T is
// not flagged at T + 59:59 and is flagged at T + 60:00.
func TestUnwatchedAtExactlyThePolicyLimit(t *testing.T) {
	clock := fakeclock.New(dayStart.Add(10 * time.Minute))
	s := newStore(t, clock, 1)
	ctx := context.Background()
	seen := dayStart.Add(10 * time.Minute)
	var ivs []wire.WatchInterval
	for _, cam := range []string{"doff1", "doff2"} {
		ivs = append(ivs, iv("w-"+cam, "site-01", cam, dayStart.Add(5*time.Minute), seen))
	}
	if _, err := s.Record(ctx, "officer-a", wire.WatchBatch{Console: "c1", Now: clock.Now(), Intervals: ivs}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		at      time.Time
		flagged bool
	}{
		{"a second before the limit", seen.Add(time.Hour - time.Second), false},
		{"at the limit", seen.Add(time.Hour), true},
		{"after it", seen.Add(2 * time.Hour), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock.Advance(c.at.Sub(clock.Now()))
			u, err := s.Unwatched(ctx, c.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(u.Zones) == 2; got != c.flagged {
				t.Errorf("unwatched at %v: %+v, want flagged %v", c.at, u.Zones, c.flagged)
			}
			rep, err := s.Report(ctx, Query{From: dayStart, To: dayStart.Add(12 * time.Hour), At: c.at})
			if err != nil {
				t.Fatal(err)
			}
			z := zoneOf(t, siteOf(t, rep, "site-01"), "doffing_room_1")
			if z.Unwatched != c.flagged || *z.SinceSeconds != int64(c.at.Sub(seen)/time.Second) {
				t.Errorf("report at %v: doffing room 1 %+v, want unwatched %v", c.at, z, c.flagged)
			}
		})
	}
}

func TestKeyMoments(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 12, 2, 15, 10, 0, 0, shanghai))
	s := newStore(t, clock, 1)
	ctx := context.Background()
	at := func(h, m int) time.Time { return time.Date(2026, 12, 2, h, m, 0, 0, shanghai) }
	// The 11:30 meal watched at the gate from 11:40; the 15:00 pickup not yet.
	if _, err := s.Record(ctx, "officer-a", wire.WatchBatch{Console: "c1", Now: clock.Now(),
		Intervals: []wire.WatchInterval{iv("m1", "site-01", "gate", at(11, 40), at(11, 45))}}); err != nil {
		t.Fatal(err)
	}
	states := func(got []wire.Moment) map[string]string {
		out := map[string]string{}
		for _, m := range got {
			out[m.ID+"@"+m.At.In(shanghai).Format("15:04")] = m.State
		}
		return out
	}
	rep, err := s.Report(ctx, Query{From: dayStart, To: dayStart.Add(12 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"meal_delivery@11:30": wire.MomentWatched, "waste_pickup@15:00": wire.MomentDue, "meal_delivery@17:30": wire.MomentUpcoming}
	if got := states(siteOf(t, rep, "site-01").Moments); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("moments of the day shift at 15:10: %v, want %v", got, want)
	}
	clock.Advance(30 * time.Minute) // 15:40: the pickup's window closed unwatched
	m, err := s.Moments(ctx, time.Hour, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"waste_pickup@15:00": wire.MomentMissed, "meal_delivery@17:30": wire.MomentUpcoming}
	if got := states(m.Moments); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("moments around 15:40: %v, want %v", got, want)
	}
	for _, mo := range m.Moments {
		if mo.ID == "meal_delivery" && fmt.Sprint(mo.Cameras) != "[gate]" {
			t.Errorf("the meal delivery is shown by %v, want the gate", mo.Cameras)
		}
	}
}

func count(t *testing.T, s *Store) string {
	t.Helper()
	var a, b int
	if err := s.DB.QueryRow(`SELECT (SELECT count(*) FROM watch_intervals), (SELECT count(*) FROM watch_spans)`).Scan(&a, &b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d intervals, %d spans", a, b)
}

func TestBadBatchesChangeNothing(t *testing.T) {
	clock := fakeclock.New(dayStart.Add(time.Hour))
	s := newStore(t, clock, 1)
	ctx := context.Background()
	t0 := dayStart.Add(10 * time.Minute)
	if _, err := s.Record(ctx, "officer-a", wire.WatchBatch{Console: "c1", Now: clock.Now(),
		Intervals: []wire.WatchInterval{iv("first", "site-01", "doff1", t0, t0.Add(5*time.Minute))}}); err != nil {
		t.Fatal(err)
	}
	good := iv("good", "site-01", "doff2", t0, t0.Add(time.Minute))
	for _, c := range []struct {
		name      string
		intervals []wire.WatchInterval
		kind      fault.Kind
		code      string
	}{
		{"overlapping the officer's earlier one", []wire.WatchInterval{good, iv("x", "site-01", "doff1", t0.Add(4*time.Minute), t0.Add(6*time.Minute))}, fault.Conflict, "overlap"},
		{"overlapping within the batch", []wire.WatchInterval{good, iv("x", "site-01", "doff2", t0.Add(30*time.Second), t0.Add(2*time.Minute))}, fault.Conflict, "overlap"},
		{"ending before it starts", []wire.WatchInterval{good, iv("x", "site-01", "waste", t0, t0.Add(-time.Second))}, fault.Unprocessable, "invalid_field"},
		{"ending when it starts", []wire.WatchInterval{good, iv("x", "site-01", "waste", t0, t0)}, fault.Unprocessable, "invalid_field"},
		{"an unknown camera", []wire.WatchInterval{good, iv("x", "site-01", "roof", t0, t0.Add(time.Minute))}, fault.Unprocessable, "unknown_camera"},
		{"an unknown site", []wire.WatchInterval{good, iv("x", "site-99", "doff1", t0, t0.Add(time.Minute))}, fault.Unprocessable, "unknown_camera"},
		{"a bad mode", []wire.WatchInterval{good, {ID: "x", Site: "site-01", Camera: "gate", Mode: "peek", Start: t0, End: t0.Add(time.Minute)}}, fault.Unprocessable, "invalid_field"},
		{"in the future", []wire.WatchInterval{good, iv("x", "site-01", "gate", clock.Now(), clock.Now().Add(time.Minute))}, fault.Unprocessable, "invalid_field"},
		{"an id reused with other content", []wire.WatchInterval{good, iv("first", "site-01", "doff1", t0, t0.Add(4*time.Minute))}, fault.Conflict, "conflict"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := count(t, s)
			_, err := s.Record(ctx, "officer-a", wire.WatchBatch{Console: "c1", Now: clock.Now(), Intervals: c.intervals})
			f := fault.As(err)
			if f == nil || f.Kind != c.kind || f.Code != c.code {
				t.Fatalf("got %v, want a %v fault %s", err, c.kind, c.code)
			}
			if after := count(t, s); after != before {
				t.Errorf("the refused batch changed the record: %s, then %s", before, after)
			}
		})
	}
	// Another officer may watch the same camera at the same time.
	if _, err := s.Record(ctx, "officer-b", wire.WatchBatch{Console: "c2", Now: clock.Now(),
		Intervals: []wire.WatchInterval{iv("b1", "site-01", "doff1", t0.Add(time.Minute), t0.Add(7*time.Minute))}}); err != nil {
		t.Fatalf("another officer's overlapping watch: %v", err)
	}
	// A resend is a duplicate and changes nothing.
	before := count(t, s)
	res, err := s.Record(ctx, "officer-a", wire.WatchBatch{Console: "c1", Now: clock.Now(),
		Intervals: []wire.WatchInterval{iv("first", "site-01", "doff1", t0, t0.Add(5*time.Minute))}})
	if err != nil || res.Accepted != 0 || res.Duplicates != 1 || count(t, s) != before {
		t.Errorf("resend: %+v, %v; %s then %s", res, err, before, count(t, s))
	}
}

// TestClockSkewIsCorrected: a console five minutes behind or ahead reports
// intervals by its clock; the relay records them by its own.
func TestClockSkewIsCorrected(t *testing.T) {
	for _, skew := range []time.Duration{5 * time.Minute, -5 * time.Minute, 0} {
		t.Run(skew.String(), func(t *testing.T) {
			clock := fakeclock.New(dayStart.Add(time.Hour))
			s := newStore(t, clock, 1)
			ctx := context.Background()
			relayStart := dayStart.Add(30 * time.Minute)
			console := func(t time.Time) time.Time { return t.Add(-skew) } // the console's clock reads the relay's minus skew
			res, err := s.Record(ctx, "officer-a", wire.WatchBatch{Console: "c1", Now: console(clock.Now()).Add(-40 * time.Millisecond),
				Intervals: []wire.WatchInterval{iv("a", "site-01", "doff1", console(relayStart), console(relayStart.Add(10*time.Minute)))}})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Duration(res.SkewMillis)*time.Millisecond - skew; d > time.Second || d < -time.Second {
				t.Errorf("skew applied %d ms, want about %v", res.SkewMillis, skew)
			}
			clock.Advance(10 * time.Minute)
			// The next batch, measured a little differently, keeps the same
			// correction: an interval starting where the last ended meets it.
			if _, err := s.Record(ctx, "officer-a", wire.WatchBatch{Console: "c1", Now: console(clock.Now()).Add(-700 * time.Millisecond),
				Intervals: []wire.WatchInterval{iv("b", "site-01", "doff1", console(relayStart.Add(10*time.Minute)), console(relayStart.Add(15*time.Minute)))}}); err != nil {
				t.Fatalf("the interval after: %v", err)
			}
			w, err := s.Watches(ctx, WatchQuery{From: dayStart, To: clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if len(w) != 2 {
				t.Fatalf("audit: %+v", w)
			}
			if d := w[0].Start.Sub(relayStart); d > time.Second || d < -time.Second {
				t.Errorf("recorded from %v, want %v by the relay's clock", w[0].Start, relayStart)
			}
			if !w[0].End.Equal(w[1].Start) {
				t.Errorf("the two intervals no longer meet: %v and %v", w[0].End, w[1].Start)
			}
			rep, err := s.Report(ctx, Query{From: dayStart, To: clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if got := siteOf(t, rep, "site-01").Cameras[0].WatchedSeconds; got != 15*60 {
				t.Errorf("doff1 watched %d s, want 900", got)
			}
		})
	}
	// A console hours off is refused until its clock is set.
	clock := fakeclock.New(dayStart.Add(time.Hour))
	s := newStore(t, clock, 1)
	_, err := s.Record(context.Background(), "officer-a", wire.WatchBatch{Console: "c1", Now: clock.Now().Add(-13 * time.Hour),
		Intervals: []wire.WatchInterval{iv("a", "site-01", "doff1", dayStart, dayStart.Add(time.Minute))}})
	if f := fault.As(err); f == nil || f.Code != "clock_skew" {
		t.Errorf("13 h off: %v, want clock_skew", err)
	}
}

// TestLongPeriodsSumDaysAndParts: over several days the report adds whole
// UTC days' sums and the spans of the part days at either end; it must
// equal the intervals clipped to the period, and "last watched" must find
// a sight on an earlier day.
func TestLongPeriodsSumDaysAndParts(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := fakeclock.New(start.Add(5 * 24 * time.Hour))
	s := newStore(t, clock, 1)
	ctx := context.Background()
	type w struct {
		officer string
		from    time.Duration
		to      time.Duration
	}
	// doff1's watches, from the 1st 00:00 UTC: across midnights, and two
	// officers overlapping.
	watches := []w{
		{"a", 22 * time.Hour, 26 * time.Hour}, {"b", 25 * time.Hour, 27 * time.Hour},
		{"a", 47*time.Hour + 30*time.Minute, 48*time.Hour + 30*time.Minute}, {"a", 60 * time.Hour, 61 * time.Hour},
		{"b", 70 * time.Hour, 75 * time.Hour}, {"a", 95 * time.Hour, 97 * time.Hour},
	}
	var spans []span
	for i, x := range watches {
		if _, err := s.Record(ctx, x.officer, wire.WatchBatch{Console: "c-" + x.officer, Now: clock.Now(),
			Intervals: []wire.WatchInterval{iv(fmt.Sprint("w", i), "site-01", "doff1", start.Add(x.from), start.Add(x.to))}}); err != nil {
			t.Fatal(err)
		}
		spans = append(spans, span{ms(start.Add(x.from)), ms(start.Add(x.to))})
	}
	union := merge(spans)
	for _, c := range []struct{ from, to time.Duration }{
		{0, 5 * 24 * time.Hour}, {23 * time.Hour, 96 * time.Hour}, {24 * time.Hour, 72 * time.Hour},
		{25*time.Hour + 17*time.Minute, 71 * time.Hour}, {47 * time.Hour, 49 * time.Hour}, {61 * time.Hour, 70 * time.Hour},
	} {
		var want int64
		f, to := ms(start.Add(c.from)), ms(start.Add(c.to))
		for _, sp := range union {
			if sp.end > f && sp.start < to {
				want += min(sp.end, to) - max(sp.start, f)
			}
		}
		rep, err := s.Report(ctx, Query{From: start.Add(c.from), To: start.Add(c.to)})
		if err != nil {
			t.Fatal(err)
		}
		cam := siteOf(t, rep, "site-01").Cameras[0]
		if cam.WatchedSeconds != want/1000 {
			t.Errorf("%v to %v: doff1 watched %d s, want %d s", c.from, c.to, cam.WatchedSeconds, want/1000)
		}
		lastWant := int64(0)
		for _, sp := range union {
			if sp.start < to {
				lastWant = min(sp.end, to)
			}
		}
		if got := cam.LastWatched; (got == nil) != (lastWant == 0) || (got != nil && ms(*got) != lastWant) {
			t.Errorf("%v to %v: last watched %v, want %v", c.from, c.to, got, fromMS(lastWant))
		}
	}
}
