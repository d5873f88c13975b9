package shifts

import (
	"testing"
	"time"
)

func mustSchedule(t *testing.T, defs ...Def) *Schedule {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSchedule(loc, defs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestShiftAtBoundaries(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	at := func(day, h, m, s int) time.Time { return time.Date(2026, 12, day, h, m, s, 0, shanghai) }
	twoShifts := mustSchedule(t, Def{ID: "night", Start: 20 * 60}, Def{ID: "day", Start: 8 * 60})
	threeShifts := mustSchedule(t, Def{ID: "a", Start: 0}, Def{ID: "b", Start: 8 * 60}, Def{ID: "c", Start: 16 * 60})
	for _, c := range []struct {
		name       string
		sched      *Schedule
		t          time.Time
		id         string
		start, end time.Time
	}{
		{"day begins at 08:00", twoShifts, at(2, 8, 0, 0), "day", at(2, 8, 0, 0), at(2, 20, 0, 0)},
		{"last second of the night", twoShifts, at(2, 7, 59, 59), "night", at(1, 20, 0, 0), at(2, 8, 0, 0)},
		{"night before midnight", twoShifts, at(2, 23, 30, 0), "night", at(2, 20, 0, 0), at(3, 8, 0, 0)},
		{"night after midnight", twoShifts, at(3, 0, 30, 0), "night", at(2, 20, 0, 0), at(3, 8, 0, 0)},
		{"night begins at 20:00", twoShifts, at(2, 20, 0, 0), "night", at(2, 20, 0, 0), at(3, 8, 0, 0)},
		{"last second of the day", twoShifts, at(2, 19, 59, 59), "day", at(2, 8, 0, 0), at(2, 20, 0, 0)},
		{"three shifts: midnight", threeShifts, at(2, 0, 0, 0), "a", at(2, 0, 0, 0), at(2, 8, 0, 0)},
		{"three shifts: just before midnight", threeShifts, at(1, 23, 59, 59), "c", at(1, 16, 0, 0), at(2, 0, 0, 0)},
		{"three shifts: afternoon", threeShifts, at(2, 16, 0, 0), "c", at(2, 16, 0, 0), at(3, 0, 0, 0)},
		{"three shifts: morning", threeShifts, at(2, 9, 0, 0), "b", at(2, 8, 0, 0), at(2, 16, 0, 0)},
		{"a UTC instant (07:00 in Shanghai)", twoShifts, time.Date(2026, 12, 2, 23, 0, 0, 0, time.UTC), "night", at(2, 20, 0, 0), at(3, 8, 0, 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			sh := c.sched.At(c.t)
			if sh.ID != c.id || !sh.Start.Equal(c.start) || !sh.End.Equal(c.end) {
				t.Fatalf("At(%v) = %s %v–%v, want %s %v–%v", c.t, sh.ID, sh.Start, sh.End, c.id, c.start, c.end)
			}
		})
	}
	night := twoShifts.At(at(3, 1, 0, 0))
	if b := twoShifts.Before(night); b.ID != "day" || !b.Start.Equal(at(2, 8, 0, 0)) {
		t.Errorf("before the night of the 2nd: %+v", b)
	}
	if a := twoShifts.After(night); a.ID != "day" || !a.Start.Equal(at(3, 8, 0, 0)) {
		t.Errorf("after the night of the 2nd: %+v", a)
	}
}

func TestScheduleRefusesSameStart(t *testing.T) {
	if _, err := NewSchedule(time.UTC, []Def{{ID: "a", Start: 60}, {ID: "b", Start: 60}}); err == nil {
		t.Fatal("two shifts starting at 01:00 accepted")
	}
}

// A handover closes the shift under way, or within the grace of its start
// the one before for an officer on duty since before it.
func TestHandoverClosesWhichShift(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	at := func(day, h, m int) time.Time { return time.Date(2026, 12, day, h, m, 0, 0, shanghai) }
	s := New(Config{Schedule: mustSchedule(t, Def{ID: "day", Start: 8 * 60}, Def{ID: "night", Start: 20 * 60}), Grace: time.Hour})
	for _, c := range []struct {
		name       string
		since, now time.Time
		id         string
		start      time.Time
	}{
		{"night officer on time", at(2, 19, 50), at(3, 7, 55), "night", at(2, 20, 0)},
		{"night officer 20 min late", at(2, 19, 50), at(3, 8, 20), "night", at(2, 20, 0)},
		{"night officer past the grace", at(2, 19, 50), at(3, 9, 0), "day", at(3, 8, 0)},
		{"day officer who signed on at 08:05", at(3, 8, 5), at(3, 8, 30), "day", at(3, 8, 0)},
		{"day officer at the end of the day", at(3, 8, 5), at(3, 19, 58), "day", at(3, 8, 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if sh := s.handedOver(c.since, c.now); sh.ID != c.id || !sh.Start.Equal(c.start) {
				t.Fatalf("closes %s from %v, want %s from %v", sh.ID, sh.Start, c.id, c.start)
			}
		})
	}
}
