// Package review is the supervisors' review of recorded findings (issue
// 13): the one filter the review list, the statistics and the reports
// count with (Filter, ParseFilter, Store.Where), the list itself with its
// paging, a finding's detail, the review marks, comments and enforcement
// outcomes supervisors record, and the full-text index behind the q
// filter. Plain Go over the relay's SQLite, where it owns the tables of
// migration 0014 (review_*); findings are relay/findings', runs
// relay/runs'. Duty staff, supervisors and admins read; supervisors and
// admins write; site managers do neither.
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

	indexMu sync.Mutex // one indexing at a time
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
	if !f.From.IsZero() {
		add(`f.observed_at >= ?`, sqlitedb.FormatTime(f.From))
	}
	if !f.To.IsZero() {
		add(`f.observed_at < ?`, sqlitedb.FormatTime(f.To))
	}
	if len(f.Districts) > 0 {
		add(`f.site_id IN (SELECT id FROM sites WHERE district_zh IN (?`+strings.Repeat(", ?", len(f.Districts)-1)+`))`, anys(f.Districts)...)
	}
	in(`f.site_id`, f.Sites)
	if len(f.SiteTypes) > 0 {
		add(`f.site_id IN (SELECT id FROM sites WHERE kind IN (?`+strings.Repeat(", ?", len(f.SiteTypes)-1)+`))`, anys(f.SiteTypes)...)
	}
	templates := make([]string, len(f.Templates))
	for i, t := range f.Templates {
		if t == "-" { // free text: no template
			t = ""
		}
		templates[i] = t
	}
	in(`f.template_id`, templates)
	deviations := make([]string, len(f.Deviations))
	for i, d := range f.Deviations {
		if d == "-" { // none: free text, or a step marked in words
			d = ""
		}
		deviations[i] = d
	}
	in(`f.deviation`, deviations)
	in(`f.severity`, f.Severities)
	in(`f.status`, f.Statuses)
	in(`f.observer`, f.Officers)
	if f.Overdue != nil {
		// findings.Overdue: not closed, and the deadline passed. The
		// statuses not closed are named so that the status index
		// (status, deadline) answers it: closed findings are most.
		overdue := `(f.status IN ('open', 'acknowledged', 'rectified', 'reopened') AND f.deadline < ?)`
		if !*f.Overdue {
			overdue = `NOT ` + overdue
		}
		add(overdue, sqlitedb.FormatTime(f.Now))
	}
	// The review's tables are asked by IN (their rows read once, by the
	// kind's index for outcomes), not EXISTS for every finding: a kind of
	// outcome at a million findings is 24 ms instead of 320.
	if f.Reviewed != nil {
		reviewed := `f.id IN (SELECT finding_id FROM review_marks)`
		if !*f.Reviewed {
			reviewed = `f.id NOT IN (SELECT finding_id FROM review_marks)`
		}
		add(reviewed)
	}
	switch {
	case len(f.Outcomes) == 1 && f.Outcomes[0] == OutcomeAny:
		add(`f.id IN (SELECT finding_id FROM review_outcomes)`)
	case len(f.Outcomes) == 1 && f.Outcomes[0] == OutcomeNone:
		add(`f.id NOT IN (SELECT finding_id FROM review_outcomes)`)
	case len(f.Outcomes) > 0:
		add(`f.id IN (SELECT finding_id FROM review_outcomes WHERE kind IN (?`+strings.Repeat(", ?", len(f.Outcomes)-1)+`))`, anys(f.Outcomes)...)
	}
	if f.Repeat > 0 {
		add(repeatSQL, repeatArgs(f.Repeat)...)
	}
	if f.Q != "" {
		add(`f.id IN (SELECT finding_id FROM review_docs WHERE docid IN (SELECT docid FROM review_fts WHERE review_fts MATCH ?))`, matchQuery(f.Q))
	}
	if len(conds) == 0 {
		return everything, nil
	}
	return strings.Join(conds, ` AND `), args
}

// everything is the condition of the filter that keeps every finding.
const everything = `1 = 1`

// repeatSQL is a repeat: another finding of the same deviation at the same
// site observed within N days before or after (a withdrawn one, a
// mistake, is none). Its arguments are repeatArgs. Everything it asks of
// the other finding is in the index findings_repeat (site_id, deviation,
// observed_at, and the rowid), the withdrawn read once by the status
// index: no finding's row is read for it (at 1M findings, 175 ms → 17
// for a site's repeats, 11 s → 1.8 for all).
const repeatSQL = `(f.deviation <> '' AND EXISTS (SELECT 1 FROM findings g
	WHERE g.site_id = f.site_id AND g.deviation = f.deviation AND g.rowid <> f.rowid
	AND g.observed_at >= strftime('%Y-%m-%dT%H:%M:%fZ', f.observed_at, ?)
	AND g.observed_at <= strftime('%Y-%m-%dT%H:%M:%fZ', f.observed_at, ?)
	AND g.rowid NOT IN (SELECT rowid FROM findings WHERE status = 'withdrawn')))`

func repeatArgs(days int) []any {
	return []any{fmt.Sprintf("-%d days", days), fmt.Sprintf("+%d days", days)}
}

// repeatDays is the window of a list item's repeat mark.
const repeatDays = 30

func anys(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
