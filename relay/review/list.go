package review

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Page is which page of the list: its order, its length, and where the
// previous page ended.
type Page struct {
	Sort  string
	Limit int
	After string // the previous page's Next; "" for the first
}

// The list's orders, the default first. Each ends with the id, so that
// every row has one place and a page ends at a row (the cursor).
var sorts = map[string][]sortKey{
	"-observed_at": {{`f.observed_at`, true}, {`f.id`, true}},
	"observed_at":  {{`f.observed_at`, false}, {`f.id`, false}},
	"deadline":     {{`f.deadline`, false}, {`f.id`, false}},
	"-deadline":    {{`f.deadline`, true}, {`f.id`, true}},
	// the most severe first (critical, major, minor: their names' order
	// too, so an index on the column serves it), then the latest
	"severity": {{`f.severity`, false}, {`f.observed_at`, true}, {`f.id`, true}},
	"site":     {{`f.site_id`, false}, {`f.observed_at`, true}, {`f.id`, true}},
}

// Sorts names the list's orders.
var Sorts = []string{"-observed_at", "observed_at", "deadline", "-deadline", "severity", "site"}

type sortKey struct {
	expr string
	desc bool
}

// DefaultLimit and MaxLimit bound a page.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// ParsePage takes the page's parameters (sort, limit, after) out of q,
// leaving the filter's.
func ParsePage(q url.Values) (Page, error) {
	p := Page{Sort: Sorts[0], Limit: DefaultLimit}
	var err error
	if v, err := single(q, "sort"); err != nil {
		return Page{}, err
	} else if v != "" {
		if _, ok := sorts[v]; !ok {
			return Page{}, fault.Field("sort", "%q: want one of %s", v, strings.Join(Sorts, ", "))
		}
		p.Sort = v
	}
	if v, err := single(q, "limit"); err != nil {
		return Page{}, err
	} else if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return Page{}, fault.Field("limit", "%q: want a number from 1 to %d", v, MaxLimit)
		}
		p.Limit = n
	}
	if p.After, err = single(q, "after"); err != nil {
		return Page{}, err
	}
	if p.After != "" {
		if _, err := decodeCursor(p.Sort, p.After); err != nil {
			return Page{}, err
		}
	}
	for _, k := range []string{"sort", "limit", "after"} {
		q.Del(k)
	}
	return p, nil
}

// cursor is where a page ended: the sort it was in and its last row's keys.
type cursor struct {
	Sort string   `json:"s"`
	Keys []string `json:"k"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // strings: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(sort, s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || len(c.Keys) != len(sorts[c.Sort]) {
		return cursor{}, fault.Field("after", "not a cursor this list gave: start again from the first page")
	}
	if c.Sort != sort {
		return cursor{}, fault.Field("after", "the cursor is of the list sorted by %s, not %s", c.Sort, sort)
	}
	return c, nil
}

// List returns a page of the findings f keeps, in p's order, with the
// count of them all.
func (s *Store) List(ctx context.Context, by auth.Principal, f Filter, p Page) (wire.ReviewPage, error) {
	if err := checkRead(by); err != nil {
		return wire.ReviewPage{}, err
	}
	if p.Sort == "" {
		p.Sort = Sorts[0]
	}
	keys, ok := sorts[p.Sort]
	if !ok {
		return wire.ReviewPage{}, fault.Field("sort", "%q: want one of %s", p.Sort, strings.Join(Sorts, ", "))
	}
	if p.Limit < 1 || p.Limit > MaxLimit {
		p.Limit = DefaultLimit
	}
	if f.Q != "" {
		if err := s.Index(ctx); err != nil {
			return wire.ReviewPage{}, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	page, err := s.list(ctx, f, p, keys)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return wire.ReviewPage{}, fault.New(fault.Unavailable, "query_timeout",
			"the list of %s took over %s: narrow the filter (a period, a district, a site)", f.describe(), s.timeout)
	}
	return page, err
}

func (s *Store) list(ctx context.Context, f Filter, p Page, keys []sortKey) (wire.ReviewPage, error) {
	where, args := f.where()
	page := wire.ReviewPage{Items: []wire.ReviewItem{}}
	count := `SELECT count(*) FROM findings f WHERE ` + where
	if len(args) == 0 && where == everything {
		count = `SELECT count(*) FROM findings` // no WHERE: SQLite counts the table's pages, not its rows
	}
	if err := s.db.QueryRowContext(ctx, count, args...).Scan(&page.Total); err != nil {
		return wire.ReviewPage{}, fmt.Errorf("counting the review list (%s): %w", f.describe(), err)
	}
	if walk, err := s.walkInOrder(ctx, p, page.Total); err != nil {
		return wire.ReviewPage{}, err
	} else if walk {
		where = `+(` + where + `)`
	}
	cols := make([]string, len(keys))
	order := make([]string, len(keys))
	for i, k := range keys {
		cols[i] = k.expr
		order[i] = k.expr + map[bool]string{true: " DESC", false: " ASC"}[k.desc]
	}
	if p.After != "" {
		c, err := decodeCursor(p.Sort, p.After)
		if err != nil {
			return wire.ReviewPage{}, err
		}
		cond, cargs := after(keys, c.Keys)
		where, args = where+` AND `+cond, append(args, cargs...)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM findings f WHERE `+where+
		` ORDER BY `+strings.Join(order, ", ")+` LIMIT ?`, append(args, p.Limit+1)...)
	if err != nil {
		return wire.ReviewPage{}, fmt.Errorf("listing the review (%s): %w", f.describe(), err)
	}
	var ids []string
	var last []string
	for rows.Next() {
		vals := make([]string, len(keys))
		ptrs := make([]any, len(keys))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return wire.ReviewPage{}, fmt.Errorf("listing the review: %w", err)
		}
		if len(ids) == p.Limit {
			page.Next = encodeCursor(cursor{Sort: p.Sort, Keys: last})
			break
		}
		ids, last = append(ids, vals[len(vals)-1]), vals
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wire.ReviewPage{}, fmt.Errorf("listing the review: %w", err)
	}
	if page.Items, err = s.items(ctx, ids); err != nil {
		return wire.ReviewPage{}, err
	}
	return page, nil
}

// walked are the orders an index keeps findings in (migrations 0014 and
// 0018: findings_observed, findings_deadline, findings_severity_order,
// findings_site_order).
var walked = map[string]bool{"-observed_at": true, "observed_at": true, "deadline": true, "-deadline": true, "severity": true, "site": true}

// maxWalk is about how many findings a page may test, walking its order's
// index, rather than take the filter's index and sort what it keeps.
const maxWalk = 20000

// walkInOrder tells whether the page is found sooner walking the index of
// its order, testing each finding against the filter (+(…): no index
// for the filter), than by SQLite's own choice, which takes the filter's
// index whenever it has one (a district's sites, a status) and sorts all
// it keeps, tens of thousands at a million findings, to return 50. Walking
// in order, a filter keeping total of n findings finds a page of limit
// within about limit×n/total.
func (s *Store) walkInOrder(ctx context.Context, p Page, total int) (bool, error) {
	if !walked[p.Sort] || total == 0 {
		return false, nil
	}
	var n sql.NullInt64 // the rowids only grow: about the count, at once
	if err := s.db.QueryRowContext(ctx, `SELECT max(rowid) FROM findings`).Scan(&n); err != nil {
		return false, fmt.Errorf("sizing the findings: %w", err)
	}
	return int64(p.Limit)*n.Int64 <= int64(total)*maxWalk, nil
}

// after is the condition of the rows after the cursor's in keys' order.
func after(keys []sortKey, vals []string) (string, []any) {
	var ors []string
	var args []any
	for i, k := range keys {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, keys[j].expr+` = ?`)
			args = append(args, vals[j])
		}
		op := ` > ?`
		if k.desc {
			op = ` < ?`
		}
		ands = append(ands, k.expr+op)
		args = append(args, vals[i])
		ors = append(ors, `(`+strings.Join(ands, ` AND `)+`)`)
	}
	return `(` + strings.Join(ors, ` OR `) + `)`, args
}

// items are the review items of ids, in their order.
func (s *Store) items(ctx context.Context, ids []string) ([]wire.ReviewItem, error) {
	out := make([]wire.ReviewItem, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	found, err := s.findings.Several(ctx, ids)
	if err != nil {
		return nil, err
	}
	sites, err := s.sites(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]*wire.ReviewItem{}
	for _, id := range ids {
		f, ok := found[id]
		if !ok { // gone since the page was read: never, findings are kept
			continue
		}
		f.Events = nil
		it := wire.ReviewItem{Finding: f, Outcomes: []wire.Outcome{}}
		if st, ok := sites[f.Site]; ok {
			it.SiteName, it.District, it.SiteType = st.name, st.district, st.kind
		}
		out = append(out, it)
	}
	for i := range out {
		byID[out[i].ID] = &out[i]
	}
	marks := `(?` + strings.Repeat(", ?", len(ids)-1) + `)`
	args := anys(ids)
	err = s.each(ctx, `SELECT finding_id, reviewed_by, reviewed_at FROM review_marks WHERE finding_id IN `+marks, args, func(scan func(...any) error) error {
		var id, by, at string
		if err := scan(&id, &by, &at); err != nil {
			return err
		}
		t, err := sqlitedb.ParseTime(at)
		if err != nil {
			return err
		}
		if it := byID[id]; it != nil {
			it.Review.Reviewed, it.Review.ReviewedBy, it.Review.ReviewedAt = true, by, &t
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT finding_id, count(*) FROM review_comments WHERE finding_id IN `+marks+` GROUP BY finding_id`, args, func(scan func(...any) error) error {
		var id string
		var n int
		if err := scan(&id, &n); err != nil {
			return err
		}
		if it := byID[id]; it != nil {
			it.Review.Comments = n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT finding_id, kind, doc_number, note, author, at FROM review_outcomes WHERE finding_id IN `+marks+` ORDER BY id`, args, func(scan func(...any) error) error {
		var id, at string
		var o wire.Outcome
		if err := scan(&id, &o.Kind, &o.DocNumber, &o.Note, &o.By, &at); err != nil {
			return err
		}
		var err error
		if o.At, err = sqlitedb.ParseTime(at); err != nil {
			return err
		}
		if it := byID[id]; it != nil {
			it.Outcomes = append(it.Outcomes, o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT f.id FROM findings f WHERE f.id IN `+marks+` AND `+repeatSQL, append(args, repeatArgs(repeatDays)...), func(scan func(...any) error) error {
		var id string
		if err := scan(&id); err != nil {
			return err
		}
		if it := byID[id]; it != nil {
			it.Repeat = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT finding_id, min(run_id) FROM run_findings WHERE finding_id IN `+marks+` GROUP BY finding_id`, args, func(scan func(...any) error) error {
		var id, run string
		if err := scan(&id, &run); err != nil {
			return err
		}
		if it := byID[id]; it != nil {
			it.RunID = run
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// each runs query and calls row for each row with its Scan.
func (s *Store) each(ctx context.Context, query string, args []any, row func(scan func(...any) error) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("reading the review: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return fmt.Errorf("reading the review: %w", err)
		}
	}
	return rows.Err()
}

type siteInfo struct {
	name, district bilingual.Text
	kind           string
}

// sites are the catalogue's sites by id (a few hundred at most).
func (s *Store) sites(ctx context.Context) (map[string]siteInfo, error) {
	out := map[string]siteInfo{}
	err := s.each(ctx, `SELECT id, name_zh, name_en, district_zh, district_en, kind FROM sites`, nil, func(scan func(...any) error) error {
		var id, nzh, nen, dzh, den, kind string
		if err := scan(&id, &nzh, &nen, &dzh, &den, &kind); err != nil {
			return err
		}
		out[id] = siteInfo{name: bilingual.New(nzh, nen), district: bilingual.New(dzh, den), kind: kind}
		return nil
	})
	return out, err
}
