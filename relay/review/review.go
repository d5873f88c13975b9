// Package review is the supervisors' review of recorded findings (issue
// 13): the one filter the review list, the statistics and the reports
// count with (Filter, ParseFilter, Store.Where), the list itself with its
// paging, a finding's detail, the review marks, comments and enforcement
// outcomes supervisors record, and the full-text index behind the q
// filter with the plan of a search over it (search.go). Plain Go over the
// relay's SQLite, where it owns the tables of migration 0014 (review_*)
// and the findings' kept numbers review_counts (0023), review_site_counts
// (0026), review_value_counts and review_hours (0027); findings are
// relay/findings', runs relay/runs'. Duty staff, supervisors and admins
// read; supervisors and admins write; site managers do neither.
package review

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/checklist"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Findings is the findings' store (relay/findings.Store).
type Findings interface {
	Get(ctx context.Context, by auth.Principal, id string) (findings.Finding, error)
	Several(ctx context.Context, ids []string) (map[string]findings.Finding, error)
	Changed() <-chan struct{}
	Announce()
}

// Runs is the checklist runs' store (relay/runs.Store).
type Runs interface {
	Get(ctx context.Context, by auth.Principal, id string) (wire.Run, error)
}

// Config is what a Store needs.
type Config struct {
	// DB is the relay database, its schema brought up to date by
	// relay/store.OpenDatabase.
	DB       *sql.DB
	Findings Findings
	Runs     Runs
	// Templates name the activities and deviations the filters offer
	// (checklist.Defaults when nil).
	Templates *checklist.Library
	// Now is the clock of overdue and of the review's records (time.Now
	// when nil).
	Now func() time.Time
	// QueryTimeout bounds a list's queries (DefaultQueryTimeout when 0):
	// no filter holds a connection and the relay's CPU for long.
	QueryTimeout time.Duration
	Log          zerolog.Logger
}

// DefaultQueryTimeout is how long a list's queries may take.
const DefaultQueryTimeout = 20 * time.Second

// Store is the review over the relay database.
type Store struct {
	db        *sql.DB
	findings  Findings
	runs      Runs
	templates *checklist.Library
	now       func() time.Time
	timeout   time.Duration
	log       zerolog.Logger

	indexMu     sync.Mutex // one indexing at a time
	docsChecked bool       // checkDocs ran, under indexMu
}

// New returns the store.
func New(cfg Config) (*Store, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Templates == nil {
		lib, err := checklist.Defaults()
		if err != nil {
			return nil, fmt.Errorf("loading the checklist templates: %w", err)
		}
		cfg.Templates = lib
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = DefaultQueryTimeout
	}
	return &Store{db: cfg.DB, findings: cfg.Findings, runs: cfg.Runs, templates: cfg.Templates, now: cfg.Now,
		timeout: cfg.QueryTimeout, log: cfg.Log}, nil
}

// mayRead and mayWrite say who reads and who writes the review.
func mayRead(r auth.Role) bool {
	return r == auth.RoleDuty || r == auth.RoleSupervisor || r == auth.RoleAdmin
}

func mayWrite(r auth.Role) bool { return r == auth.RoleSupervisor || r == auth.RoleAdmin }

// CheckRead refuses (403) a user who may not read the review: adapters
// ask it before reading a request's parameters, so that a site manager
// hears no more than that.
func CheckRead(by auth.Principal) error { return checkRead(by) }

// CheckWrite refuses (403) a user who may not write the review.
func CheckWrite(by auth.Principal) error { return checkWrite(by) }

func checkRead(by auth.Principal) error {
	if !mayRead(by.Role) {
		return fault.New(fault.Forbidden, "forbidden", "a %s does not read the review", roleName(by.Role))
	}
	return nil
}

func checkWrite(by auth.Principal) error {
	if !mayWrite(by.Role) {
		return fault.New(fault.Forbidden, "forbidden", "a %s may read the review but not write it: supervisors and admins do", roleName(by.Role))
	}
	return nil
}

func roleName(r auth.Role) string {
	if r == "" {
		return "user without a role"
	}
	return string(r)
}

// Where is f as a condition on the findings table aliased f, with its
// arguments: SELECT count(*) FROM findings f WHERE <it> counts exactly
// the review list of f. It needs no other FROM item (what it asks of
// other tables it asks by subquery). With Q set, the full-text index is
// read as it stands: Index brings it up to date (List does, and the
// relay keeps it so as findings change).
func (s *Store) Where(f Filter) (string, []any) { return f.where() }

// siteConds are f's conditions on the findings' sites, as conditions on
// the column col holding a site's id.
func (f Filter) siteConds(col string) ([]string, []any) {
	var conds []string
	var args []any
	in := func(expr string, vs []string) {
		if len(vs) > 0 {
			conds = append(conds, strings.Replace(expr, "?", `?`+strings.Repeat(", ?", len(vs)-1), 1))
			args = append(args, anys(vs)...)
		}
	}
	in(col+` IN (SELECT id FROM sites WHERE district_zh IN (?))`, f.Districts)
	in(col+` IN (?)`, f.Sites)
	in(col+` IN (SELECT id FROM sites WHERE kind IN (?))`, f.SiteTypes)
	return conds, args
}

func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	in := func(expr string, vs []string) {
		if len(vs) == 0 {
			return
		}
		add(expr+` IN (?`+strings.Repeat(", ?", len(vs)-1)+`)`, anys(vs)...)
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		p, pargs := f.period(`f.observed_at`)
		add(p, pargs...)
	}
	sc, sa := f.siteConds(`f.site_id`)
	conds, args = append(conds, sc...), append(args, sa...)
	if f.Overdue != nil {
		// findings.Overdue: not closed, and the deadline passed. Said twice
		// over, the same set of statuses: IN, so that the indexes led by
		// the status after the site (findings_site) or alone
		// (findings_status) seek each, and NOT IN as the partial indexes
		// of the findings not closed (findings_open_deadline,
		// findings_open_observed: migrations 0018, 0019, 0025) write it, so
		// that SQLite sees they hold every row it needs. Before the template
		// and the rest: a page walking findings_open_observed tests it from
		// the index's entries before reading a row (quarter + hotel +
		// waste-transfer + overdue: the recent open findings, not overdue,
		// were each read for their template).
		overdue := `(f.status IN ('open', 'acknowledged', 'rectified', 'reopened') AND f.status NOT IN ('verified', 'withdrawn') AND f.deadline < ?)`
		if !*f.Overdue {
			overdue = `NOT ` + overdue
		}
		add(overdue, sqlitedb.FormatTime(f.Now))
	}
	in(`f.template_id`, noneAsEmpty(f.Templates))
	in(`f.deviation`, noneAsEmpty(f.Deviations))
	// A severity (a third of the record) or a review mark (a third, or two)
	// with other conditions: their indexes, in the list's order for these
	// alone, lead SQLite to read a third of the record for a month of a
	// district's open critical findings (at 1M findings 144 ms of CPU →
	// 344 when 0019 added findings_reviewed). With others, +: no index.
	weak := `f.`
	if f.others() {
		weak = `+f.`
	}
	in(weak+`severity`, f.Severities)
	in(`f.status`, f.Statuses)
	in(`f.observer`, f.Officers)
	// Reviewed, outcomes and repeat are columns the database keeps on the
	// finding's row (migration 0019's triggers): a page walking the list's
	// order tests the row it reads, where a list of the review's ids
	// (330,000 reviewed at a million findings) was built for every page
	// and a repeat sought the site's other findings for every row.
	if f.Reviewed != nil {
		add(weak+`reviewed = ?`, map[bool]int{true: 1, false: 0}[*f.Reviewed])
	}
	switch {
	case len(f.Outcomes) == 1 && f.Outcomes[0] == OutcomeAny:
		add(`f.outcome_kinds > 0`)
	case len(f.Outcomes) == 1 && f.Outcomes[0] == OutcomeNone:
		add(`f.outcome_kinds = 0`)
	case len(f.Outcomes) > 0:
		// Every set of kinds with one of these in it, so that the index
		// (outcome_kinds, observed_at, id) is sought, not scanned.
		masks := outcomeMasks(f.Outcomes)
		add(`f.outcome_kinds IN (?`+strings.Repeat(", ?", len(masks)-1)+`)`, masks...)
	}
	if f.Repeat > 0 {
		add(`f.repeat_gap_ms <= ?`, int64(f.Repeat)*dayMillis)
	}
	if f.Q != "" {
		// A document's docid is its finding's rowid (migration 0022), which
		// every index of findings holds: tested without reading the row.
		// With many matches (manyMatches) the other conditions' index is
		// read and each entry's rowid tested (+: not the matches', whose
		// ~200,000 rows SQLite would otherwise read one by one by rowid).
		// A page bounded by its newest matches (matchFrom) reads those few
		// by rowid.
		term := `f.rowid`
		if f.manyMatches && f.matchFrom == 0 {
			term = `+f.rowid`
		}
		m, margs := f.matches()
		add(term+` IN (`+m+`)`, margs...)
	}
	if len(conds) == 0 {
		return everything, nil
	}
	return strings.Join(conds, ` AND `), args
}

// period is f's condition on the time observed, held in col, with
// either bound or both.
func (f Filter) period(col string) (string, []any) {
	var conds []string
	var args []any
	if !f.From.IsZero() {
		conds, args = append(conds, col+` >= ?`), append(args, sqlitedb.FormatTime(f.From))
	}
	if !f.To.IsZero() {
		conds, args = append(conds, col+` < ?`), append(args, sqlitedb.FormatTime(f.To))
	}
	return strings.Join(conds, ` AND `), args
}

// noneAsEmpty is a filter's templates or deviations as the findings'
// columns hold them: "-", none (free text, or a step marked in words),
// is "".
func noneAsEmpty(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		if v != "-" {
			out[i] = v
		}
	}
	return out
}

// others tells whether f has conditions besides severity and reviewed.
func (f Filter) others() bool {
	for k := range f.Query() {
		if k != "severity" && k != "reviewed" {
			return true
		}
	}
	return false
}

// everything is the condition of the filter that keeps every finding.
const everything = `1 = 1`

// dayMillis is a day in repeat_gap_ms's unit.
const dayMillis = 24 * 60 * 60 * 1000

// outcomeBits are the kinds' bits in findings.outcome_kinds (migration
// 0019).
var outcomeBits = map[string]int{wire.OutcomeNoticeIssued: 1, wire.OutcomeRectifyOrder: 2, wire.OutcomeSuspendOrder: 4, wire.OutcomeCaseFiled: 8}

// outcomeMasks are the values of outcome_kinds that have one of kinds.
func outcomeMasks(kinds []string) []any {
	want := 0
	for _, k := range kinds {
		want |= outcomeBits[k]
	}
	var out []any
	for m := 1; m < 1<<len(outcomeBits); m++ {
		if m&want != 0 {
			out = append(out, m)
		}
	}
	return out
}

// repeatDays is the window of a list item's repeat mark.
const repeatDays = 30

func anys[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
