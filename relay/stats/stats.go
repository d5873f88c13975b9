// Package stats counts what supervisors look at (issue 13): findings by
// time, activity, severity, status, place and officer, their rectification
// and its median time, the overdue by age, repeated deviations and the
// sites ranked by problems, checks' coverage per shift, and keeps the
// on-site follow-up list (四不两直 回头看, table followups, relay/store's
// migration 0015). Plain Go over the relay's SQLite; relay/api is its
// adapter.
//
// Every finding count is over relay/review's filter, the very condition
// the review list pages through (review.Store.Where), and every group
// carries the review filter that lists exactly its rows (its drill), so a
// chart and the list it drills into agree to the unit whatever the filter.
package stats

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/qianliyan/qianliyan/checklist"
	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/coverage"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/shifts"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Review is the review list's filter (relay/review.Store): the findings a
// filter selects, as a condition on the findings table aliased f.
// Index brings its full-text index up to date, which the q filter reads.
type Review interface {
	Where(f review.Filter) (sql string, args []any)
	Index(ctx context.Context) error
}

// Catalogue is the relay's sites (relay/store.Store): their names,
// districts and kinds, by which findings are grouped.
type Catalogue interface {
	Sites(ctx context.Context) ([]store.Site, error)
}

// Coverage reports how a period was watched (relay/coverage.Store).
type Coverage interface {
	Report(ctx context.Context, q coverage.Query) (wire.Coverage, error)
}

// Config is what the statistics need.
type Config struct {
	// DB is the relay database (relay/store.OpenDatabase).
	DB        *sql.DB
	Review    Review
	Catalogue Catalogue
	Coverage  Coverage
	// Schedule is the duty room's shifts; its time zone is the one days,
	// weeks and months are counted in.
	Schedule *shifts.Schedule
	// Templates name the activities (checklist.Defaults when nil), as
	// relay/review's filters offer them.
	Templates *checklist.Library
	// Now is the relay's clock: what is overdue, and the filter's
	// relative periods (time.Now when nil).
	Now func() time.Time
	// QueryTimeout bounds each query of a statistic (the review list's,
	// review.DefaultQueryTimeout, when 0): no filter holds a connection
	// and the relay's CPU for long.
	QueryTimeout time.Duration
}

// Store answers the statistics and keeps the follow-up list.
type Store struct {
	Config
	titles     map[string]bilingual.Text // the templates' titles by id
	deviations map[string]bilingual.Text // their deviations' words by id
}

// New returns the statistics over cfg.DB.
func New(cfg Config) (*Store, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = review.DefaultQueryTimeout
	}
	if cfg.Templates == nil {
		lib, err := checklist.Defaults()
		if err != nil {
			return nil, fmt.Errorf("loading the checklist templates: %w", err)
		}
		cfg.Templates = lib
	}
	s := &Store{Config: cfg, titles: map[string]bilingual.Text{}, deviations: map[string]bilingual.Text{}}
	for _, t := range cfg.Templates.Latest() {
		s.titles[t.ID] = t.Title
		for _, d := range t.Deviations {
			if _, ok := s.deviations[d.ID]; !ok { // one id, one meaning, whichever checklist names it first
				s.deviations[d.ID] = d.Text
			}
		}
	}
	return s, nil
}

// mayRead refuses site managers: the statistics are the city's record of
// its sites, not one site's.
func mayRead(p auth.Principal) error {
	switch p.Role {
	case auth.RoleDuty, auth.RoleSupervisor, auth.RoleAdmin:
		return nil
	}
	return fault.New(fault.Forbidden, "forbidden", "the supervisors' statistics are not a %s's to read", p.Role)
}

// mayWrite lets supervisors and admins change the follow-up list.
func mayWrite(p auth.Principal) error {
	switch p.Role {
	case auth.RoleSupervisor, auth.RoleAdmin:
		return nil
	}
	return fault.New(fault.Forbidden, "forbidden", "only supervisors and admins change the on-site follow-up list, not a %s", p.Role)
}

// sites returns the catalogue's sites by id.
func (s *Store) sites(ctx context.Context) (map[string]store.Site, error) {
	list, err := s.Catalogue.Sites(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the sites: %w", err)
	}
	out := make(map[string]store.Site, len(list))
	for _, st := range list {
		out[st.ID] = st
	}
	return out, nil
}

// options takes the statistics' own parameters (names) out of q, leaving
// the review filter's.
func options(q url.Values, names ...string) (filter url.Values, own map[string]string, err error) {
	filter = url.Values{}
	for k, v := range q {
		filter[k] = v
	}
	own = map[string]string{}
	for _, n := range names {
		vs, ok := filter[n]
		if !ok {
			continue
		}
		if len(vs) != 1 {
			return nil, nil, fault.Field(n, "give it once")
		}
		own[n] = vs[0]
		delete(filter, n)
	}
	return filter, own, nil
}

// scope is a parsed filter and the rows it selects.
type scope struct {
	filter review.Filter
	where  string
	args   []any
}

// parse reads the review filter of q (without the statistics' own
// parameters) and its condition. A full-text filter reads the index
// brought up to date first, as the review list does, so both count the
// same findings.
func (s *Store) parse(ctx context.Context, q url.Values) (scope, error) {
	f, err := review.ParseFilter(q, s.Now(), s.Schedule.Location())
	if err != nil {
		return scope{}, err
	}
	if f.Q != "" {
		if err := s.Review.Index(ctx); err != nil {
			return scope{}, fmt.Errorf("indexing the findings for %q: %w", f.Q, err)
		}
	}
	w, args := s.Review.Where(f)
	return scope{filter: f, where: w, args: args}, nil
}

// drill is a filter's query string, for the review list.
func drill(f review.Filter) string { return f.Query().Encode() }

// count runs a counting query, scanning each row with scan.
// A query past QueryTimeout is interrupted and answered 503 query_timeout.
func (s *Store) query(ctx context.Context, what, q string, args []any, scan func(*sql.Rows) error) error {
	bounded, cancel := context.WithTimeout(ctx, s.QueryTimeout)
	defer cancel()
	err := func() error {
		rows, err := s.DB.QueryContext(bounded, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}()
	if err != nil && ctx.Err() == nil && errors.Is(bounded.Err(), context.DeadlineExceeded) {
		return fault.New(fault.Unavailable, "query_timeout", "counting %s took over %s: narrow the filter (a period, a district, a site)", what, s.QueryTimeout)
	}
	if err != nil {
		return fmt.Errorf("counting %s: %w", what, err)
	}
	return nil
}
