package review

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/config"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Filter is the one filter of the review list, the statistics and the
// reports (docs/PROTOCOLS.md, issue 13: review): every one of them counts
// on Store.Where of it, so their numbers agree to the unit. The zero
// Filter is every finding. Lists are ORed within and ANDed across.
type Filter struct {
	// From and To bound observed_at: [From, To); zero is open.
	From, To   time.Time
	Districts  []string // the district's zh-CN name, its key
	Sites      []string
	SiteTypes  []string
	Templates  []string // "-" is free text: no template
	Deviations []string // "-" is none: no deviation of a catalogue
	Severities []string
	Statuses   []string
	Officers   []string // the observer's user name
	// Overdue and Reviewed, when set, keep only findings that are (or are
	// not) overdue at Now, reviewed.
	Overdue, Reviewed *bool
	// Outcomes are outcome kinds (any of them recorded), or OutcomeAny or
	// OutcomeNone alone.
	Outcomes []string
	// Repeat, from 1 to 365, keeps only findings whose site had another
	// finding of the same deviation within Repeat days before or after.
	Repeat int
	// Q is the full-text search: every word in the deviation's words, the
	// note, the notes of the finding's history (the site's rectification
	// reports among them) or a comment.
	Q string

	// Now is the clock Overdue is judged on.
	Now time.Time
	// Loc is the duty room's time zone: the days of from and to.
	Loc *time.Location

	// Set by the list for its own queries:
	// matched are the conditions Q's match names besides its words
	// (Store.matchConds).
	matched []matchCond
	// manyMatches: Q matches more findings than are read one by one
	// (Store.matchesMany).
	manyMatches bool
	// matchFrom is the least docid of the matches a page reads
	// (Store.matchBound); 0 reads them all.
	matchFrom int64
	// matchLo and matchHi bound the docids of the matches in the period
	// (Store.matchRange); 0 reads them all. periodDense: the findings
	// between them are the period's, every one.
	matchLo, matchHi int64
	periodDense      bool
}

// The outcome filter's two words besides the kinds.
const (
	OutcomeAny  = "any"
	OutcomeNone = "none"
)

// The filter's query parameters, in the order Query writes them.
var filterKeys = []string{"from", "to", "district", "site", "site_type", "template", "deviation", "severity", "status",
	"officer", "overdue", "reviewed", "outcome", "repeat", "q"}

// Bounds of what a filter may ask, so that no query runs away.
const (
	maxValues   = 200 // values of one repeatable parameter
	maxValueLen = 200
	maxQLen     = 200
	maxRepeat   = 365
)

// ParseFilter reads a filter from query parameters. A parameter that is no
// filter's is refused (400 invalid_field naming it): a caller with
// parameters of its own (sort, group…) takes them out of q first.
// Repeatable parameters take repeats and comma lists alike. now is the
// clock of overdue, loc the duty room's time zone, in which from and to
// given as days (YYYY-MM-DD, both inclusive) begin and end.
func ParseFilter(q url.Values, now time.Time, loc *time.Location) (Filter, error) {
	if loc == nil {
		loc = time.UTC
	}
	f := Filter{Now: now, Loc: loc}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(filterKeys, k) {
			return Filter{}, fault.Field(k, "unknown parameter: want one of %s", strings.Join(filterKeys, ", "))
		}
	}
	var err error
	if f.From, err = day(q, "from", loc, false); err != nil {
		return Filter{}, err
	}
	if f.To, err = day(q, "to", loc, true); err != nil {
		return Filter{}, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return Filter{}, fault.Field("to", "the period ends (%s) before it begins (%s)", q.Get("to"), q.Get("from"))
	}
	lists := []struct {
		key   string
		dst   *[]string
		allow []string // nil: any value
	}{
		{"district", &f.Districts, nil},
		{"site", &f.Sites, nil},
		{"site_type", &f.SiteTypes, config.SiteTypes},
		{"template", &f.Templates, nil},
		{"deviation", &f.Deviations, nil},
		{"severity", &f.Severities, findings.Severities},
		{"status", &f.Statuses, Statuses},
		{"officer", &f.Officers, nil},
		{"outcome", &f.Outcomes, append(slices.Clone(OutcomeKinds), OutcomeAny, OutcomeNone)},
	}
	for _, l := range lists {
		if *l.dst, err = values(q, l.key, l.allow); err != nil {
			return Filter{}, err
		}
	}
	if len(f.Outcomes) > 1 && (slices.Contains(f.Outcomes, OutcomeAny) || slices.Contains(f.Outcomes, OutcomeNone)) {
		return Filter{}, fault.Field("outcome", "any and none go alone, not with %s", strings.Join(f.Outcomes, ","))
	}
	if f.Overdue, err = flag(q, "overdue"); err != nil {
		return Filter{}, err
	}
	if f.Reviewed, err = flag(q, "reviewed"); err != nil {
		return Filter{}, err
	}
	if v, err := single(q, "repeat"); err != nil {
		return Filter{}, err
	} else if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRepeat {
			return Filter{}, fault.Field("repeat", "%q: want a number of days from 1 to %d", v, maxRepeat)
		}
		f.Repeat = n
	}
	if f.Q, err = single(q, "q"); err != nil {
		return Filter{}, err
	}
	f.Q = strings.TrimSpace(f.Q)
	if len([]rune(f.Q)) > maxQLen {
		return Filter{}, fault.Field("q", "over %d characters", maxQLen)
	}
	if f.Q != "" && matchQuery(f.Q) == "" {
		return Filter{}, fault.Field("q", "%q has no word to search for", f.Q)
	}
	return f, nil
}

// Statuses are the statuses a finding may have.
var Statuses = []string{string(wire.StatusOpen), string(wire.StatusAcknowledged), string(wire.StatusRectified),
	string(wire.StatusVerified), string(wire.StatusReopened), string(wire.StatusWithdrawn)}

// OutcomeKinds are the enforcement outcomes a supervisor records.
var OutcomeKinds = []string{wire.OutcomeNoticeIssued, wire.OutcomeRectifyOrder, wire.OutcomeSuspendOrder, wire.OutcomeCaseFiled}

// single returns a parameter given at most once.
func single(q url.Values, key string) (string, error) {
	vs := q[key]
	if len(vs) > 1 {
		return "", fault.Field(key, "given %d times: want it once", len(vs))
	}
	if len(vs) == 0 {
		return "", nil
	}
	return vs[0], nil
}

func flag(q url.Values, key string) (*bool, error) {
	v, err := single(q, key)
	if err != nil || v == "" {
		return nil, err
	}
	switch v {
	case "1", "true":
		b := true
		return &b, nil
	case "0", "false":
		b := false
		return &b, nil
	}
	return nil, fault.Field(key, "%q: want 1 or 0", v)
}

// values reads a repeatable parameter: repeats and comma lists, blanks
// dropped, duplicates once.
func values(q url.Values, key string, allow []string) ([]string, error) {
	var out []string
	for _, v := range q[key] {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" || slices.Contains(out, s) {
				continue
			}
			if len(s) > maxValueLen {
				return nil, fault.Field(key, "a value over %d bytes", maxValueLen)
			}
			if allow != nil && !slices.Contains(allow, s) {
				return nil, fault.Field(key, "%q: want one of %s", s, strings.Join(allow, ", "))
			}
			out = append(out, s)
		}
	}
	if len(out) > maxValues {
		return nil, fault.Field(key, "%d values: at most %d", len(out), maxValues)
	}
	return out, nil
}

// day reads from or to: a day in loc (to: the end of that day) or an RFC
// 3339 time (to: the instant the period ends, itself left out).
func day(q url.Values, key string, loc *time.Location, end bool) (time.Time, error) {
	v, err := single(q, key)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	if d, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fault.Field(key, "%q: want a day (2026-12-01) or an RFC 3339 time (2026-12-01T08:00:00+08:00)", v)
	}
	return t, nil
}

// Query is the filter as query parameters, which ParseFilter reads back to
// the same filter: the drill-down links of charts and reports. Days that
// begin at midnight in Loc are written as days.
func (f Filter) Query() url.Values {
	loc := f.Loc
	if loc == nil {
		loc = time.UTC
	}
	q := url.Values{}
	if !f.From.IsZero() {
		q.Set("from", timeParam(f.From, loc, false))
	}
	if !f.To.IsZero() {
		q.Set("to", timeParam(f.To, loc, true))
	}
	for _, l := range []struct {
		key string
		vs  []string
	}{
		{"district", f.Districts}, {"site", f.Sites}, {"site_type", f.SiteTypes}, {"template", f.Templates},
		{"deviation", f.Deviations}, {"severity", f.Severities}, {"status", f.Statuses}, {"officer", f.Officers},
		{"outcome", f.Outcomes},
	} {
		if len(l.vs) > 0 {
			q.Set(l.key, strings.Join(l.vs, ","))
		}
	}
	for _, b := range []struct {
		key string
		v   *bool
	}{{"overdue", f.Overdue}, {"reviewed", f.Reviewed}} {
		if b.v != nil {
			q.Set(b.key, map[bool]string{true: "1", false: "0"}[*b.v])
		}
	}
	if f.Repeat > 0 {
		q.Set("repeat", strconv.Itoa(f.Repeat))
	}
	if f.Q != "" {
		q.Set("q", f.Q)
	}
	return q
}

func timeParam(t time.Time, loc *time.Location, end bool) string {
	l := t.In(loc)
	if l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 && l.Nanosecond() == 0 {
		if end {
			l = l.AddDate(0, 0, -1)
		}
		return l.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// String is the filter's query string, for logs and the audit.
func (f Filter) String() string { return f.Query().Encode() }

// describe names the filter in an error.
func (f Filter) describe() string {
	if s := f.String(); s != "" {
		return s
	}
	return "no filter"
}
