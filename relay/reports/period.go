package reports

import (
	"fmt"
	"net/url"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/shifts"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// span is a report's period: [from, to) in the duty room's time zone, its
// label, the shift when it is one, and the review filter's from and to
// that select the findings observed in it.
type span struct {
	from, to time.Time
	label    string
	shift    *wire.Shift
	filter   url.Values
}

const day = "2006-01-02"

// periodOf finds the period of kind containing date (YYYY-MM-DD, in the
// schedule's time zone): the day, the shift of that id that starts on that
// day, the ISO week (Monday to Sunday) or the month.
func periodOf(sched *shifts.Schedule, period, date, shift string) (span, error) {
	loc := sched.Location()
	d, err := time.ParseInLocation(day, date, loc)
	if err != nil {
		return span{}, fault.Field("date", "date %q: want YYYY-MM-DD, e.g. 2026-12-02", date)
	}
	if shift != "" && period != wire.PeriodShift {
		return span{}, fault.Field("shift", "shift is for the shift report only (period shift)")
	}
	var s span
	switch period {
	case wire.PeriodDaily:
		s = days(d, d.AddDate(0, 0, 1), d.Format(day))
	case wire.PeriodWeekly:
		monday := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		y, w := monday.ISOWeek()
		s = days(monday, monday.AddDate(0, 0, 7), fmt.Sprintf("%d-W%02d", y, w))
	case wire.PeriodMonthly:
		first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, loc)
		s = days(first, first.AddDate(0, 1, 0), first.Format("2006-01"))
	case wire.PeriodShift:
		if shift == "" {
			return span{}, fault.Field("shift", "the shift report needs shift (the shift's id, e.g. day)")
		}
		next := d.AddDate(0, 0, 1)
		for sh := sched.At(d); sh.Start.Before(next); sh = sched.After(sh) {
			if sh.ID == shift && !sh.Start.Before(d) {
				s = span{from: sh.Start, to: sh.End, label: d.Format(day) + " " + sh.ID, shift: &sh,
					filter: url.Values{"from": {sh.Start.Format(time.RFC3339)}, "to": {sh.End.Format(time.RFC3339)}}}
				return s, nil
			}
		}
		return span{}, fault.Field("shift", "no shift %q starts on %s", shift, date)
	default:
		return span{}, fault.Field("period", "period %q: want daily, shift, weekly or monthly", period)
	}
	return s, nil
}

// days is the period of whole local days [first, end): its filter gives
// the first and last day, which the review filter takes as inclusive.
func days(first, end time.Time, label string) span {
	last := end.AddDate(0, 0, -1)
	return span{from: first, to: end, label: label,
		filter: url.Values{"from": {first.Format(day)}, "to": {last.Format(day)}}}
}
