package stats

import (
	"time"

	"github.com/qianliyan/qianliyan/relay/review"
)

// A group's drill is the filter narrowed to the group: its own value in
// the parameter the group is by (a group's key is one of the values the
// filter allows, so this is the intersection), or its period within the
// filter's.

// only returns f with one value in the list the group is by.
func only(f review.Filter, group, key string) review.Filter {
	one := []string{key}
	switch group {
	case "template":
		f.Templates = one
	case "severity":
		f.Severities = one
	case "status":
		f.Statuses = one
	case "district":
		f.Districts = one
	case "site":
		f.Sites = one
	case "site_type":
		f.SiteTypes = one
	case "deviation":
		f.Deviations = one
	case "officer":
		f.Officers = one
	}
	return f
}

// between returns f narrowed to the findings observed in [from, to).
func between(f review.Filter, from, to time.Time) review.Filter {
	if f.From.IsZero() || from.After(f.From) {
		f.From = from
	}
	if f.To.IsZero() || to.Before(f.To) {
		f.To = to
	}
	return f
}

// overdue returns f keeping only the findings overdue at its Now.
func overdue(f review.Filter) review.Filter {
	yes := true
	f.Overdue = &yes
	return f
}

// repeating returns f keeping only the findings whose deviation repeats
// at their site within days.
func repeating(f review.Filter, days int) review.Filter {
	f.Repeat = days
	return f
}
