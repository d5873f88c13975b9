package shifts

import (
	"fmt"
	"sort"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Def is one shift of the day: it starts at Start minutes after midnight
// and runs until the next shift's start.
type Def struct {
	ID    string
	Start int // minutes after midnight, 0 to 1439
	Name  bilingual.Text
}

// Schedule is the duty room's shifts, round the clock in one time zone.
type Schedule struct {
	loc  *time.Location
	defs []Def // by Start
}

// NewSchedule returns the schedule of defs in loc.
func NewSchedule(loc *time.Location, defs []Def) (*Schedule, error) {
	if loc == nil || len(defs) == 0 {
		return nil, fmt.Errorf("a shift schedule needs a time zone and at least one shift")
	}
	sorted := append([]Def(nil), defs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	for i, d := range sorted {
		if d.Start < 0 || d.Start >= 24*60 {
			return nil, fmt.Errorf("shift %q starts %d minutes after midnight: want 0 to 1439", d.ID, d.Start)
		}
		if i > 0 && d.Start == sorted[i-1].Start {
			return nil, fmt.Errorf("shifts %q and %q start at the same time", sorted[i-1].ID, d.ID)
		}
	}
	return &Schedule{loc: loc, defs: sorted}, nil
}

// Location is the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// starts returns the shifts' starts on the local day of t, the day before
// and the day after, in order. Each is made from the wall clock, so a
// shift across a daylight-saving change is an hour longer or shorter.
func (s *Schedule) starts(t time.Time) []wire.Shift {
	local := t.In(s.loc)
	y, m, d := local.Date()
	var out []wire.Shift
	for day := -1; day <= 1; day++ {
		for _, def := range s.defs {
			start := time.Date(y, m, d+day, def.Start/60, def.Start%60, 0, 0, s.loc)
			out = append(out, wire.Shift{ID: def.ID, Name: def.Name, Start: start})
		}
	}
	for i := range out[:len(out)-1] {
		out[i].End = out[i+1].Start
	}
	return out
}

// At returns the shift instance t falls in: Start ≤ t < End.
func (s *Schedule) At(t time.Time) wire.Shift {
	all := s.starts(t)
	for i := len(all) - 2; i >= 0; i-- {
		if !all[i].Start.After(t) {
			return all[i]
		}
	}
	return all[0] // not reached: the day before's starts precede t
}

// Before returns the shift instance before sh.
func (s *Schedule) Before(sh wire.Shift) wire.Shift { return s.At(sh.Start.Add(-time.Nanosecond)) }

// After returns the shift instance after sh.
func (s *Schedule) After(sh wire.Shift) wire.Shift { return s.At(sh.End) }
