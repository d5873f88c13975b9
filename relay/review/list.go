package review

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
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

// cursor is where a page ended: the sort it was in and its last row's
// keys, and the filter's total as the first page counted it, which the
// next pages answer again rather than count a broad filter's hundreds of
// thousands of rows for each (0: a cursor of before it was carried, the
// next page counts).
type cursor struct {
	Sort  string   `json:"s"`
	Keys  []string `json:"k"`
	Total int      `json:"t,omitempty"`
	// Of is the filter the total is of (filterMark): a cursor given with
	// another filter pages on but counts again.
	Of string `json:"f,omitempty"`
}

// filterMark names a filter in a cursor, short.
func filterMark(f Filter) string {
	h := fnv.New64a()
	h.Write([]byte(f.String()))
	return strconv.FormatUint(h.Sum64(), 36)
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
	page := wire.ReviewPage{Items: []wire.ReviewItem{}}
	var c cursor
	if p.After != "" {
		var err error
		if c, err = decodeCursor(p.Sort, p.After); err != nil {
			return wire.ReviewPage{}, err
		}
	}
	mark := filterMark(f)
	if c.Of == mark {
		page.Total = c.Total
	}
	var err error
	if f, err = s.prepareSearch(ctx, f); err != nil {
		return wire.ReviewPage{}, err
	}
	var rows [][]string
	walked := false
	if f.walksMatches(p.Sort) {
		var total int
		if rows, total, walked, err = s.walkMatches(ctx, f, p, keys, c); err != nil {
			return wire.ReviewPage{}, err
		}
		if page.Total == 0 {
			page.Total = total
		}
	}
	if page.Total == 0 {
		count, args, err := s.searchCount(ctx, f)
		if err != nil {
			return wire.ReviewPage{}, err
		}
		if err := s.db.QueryRowContext(ctx, count, args...).Scan(&page.Total); err != nil {
			return wire.ReviewPage{}, fmt.Errorf("counting the review list (%s): %w", f.describe(), err)
		}
	}
	if !walked {
		f = f.countedMatches(page.Total)
		if rows, err = s.pageRows(ctx, f, p, keys, page.Total, c); err != nil {
			return wire.ReviewPage{}, err
		}
	}
	var ids []string
	for i, vals := range rows {
		if i == p.Limit {
			page.Next = encodeCursor(cursor{Sort: p.Sort, Keys: rows[i-1], Total: page.Total, Of: mark})
			break
		}
		ids = append(ids, vals[len(vals)-1])
	}
	if page.Items, err = s.items(ctx, ids); err != nil {
		return wire.ReviewPage{}, err
	}
	return page, nil
}

// pageRows are the keys of p's page of f after c (the id last), and of
// the row after it if any: pageQuery's rows.
func (s *Store) pageRows(ctx context.Context, f Filter, p Page, keys []sortKey, total int, c cursor) ([][]string, error) {
	query, args, err := s.pageQuery(ctx, f, p, keys, total, c)
	if err != nil {
		return nil, err
	}
	out, err := s.keyRows(ctx, query, args, len(keys))
	if err != nil {
		return nil, fmt.Errorf("listing the review (%s): %w", f.describe(), err)
	}
	return out, nil
}

// keyRows are the rows of a query of n sort keys.
func (s *Store) keyRows(ctx context.Context, query string, args []any, n int) ([][]string, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals := make([]string, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

// keyColumns are keys as the columns of a SELECT and as its ORDER BY.
func keyColumns(keys []sortKey) (cols, order string) {
	c := make([]string, len(keys))
	o := make([]string, len(keys))
	for i, k := range keys {
		c[i] = k.expr
		o[i] = k.expr + map[bool]string{true: " DESC", false: " ASC"}[k.desc]
	}
	return strings.Join(c, ", "), strings.Join(o, ", ")
}

// searchCount is the query of f's total (countQuery), f prepared for its
// search (prepareSearch), with overdue counted from the index
// (overdueCount): a search of findings not overdue counts its matches
// less those overdue, in one statement, one snapshot (整改 not overdue:
// 201,564 of 226,000 matches, each tested against the findings' statuses
// and deadlines, 460 ms of CPU at a million findings).
func (s *Store) searchCount(ctx context.Context, f Filter) (string, []any, error) {
	if f.Q == "" || f.Overdue == nil {
		count, args := countQuery(f)
		return count, args, nil
	}
	if *f.Overdue {
		return s.overdueCount(ctx, f)
	}
	yes := true
	all, due := f, f
	all.Overdue, due.Overdue = nil, &yes
	var err error
	if all, err = s.prepareSearch(ctx, all); err != nil {
		return "", nil, err
	}
	if due, err = s.prepareSearch(ctx, due); err != nil {
		return "", nil, err
	}
	a, aargs := countQuery(all)
	d, dargs, err := s.overdueCount(ctx, due)
	if err != nil {
		return "", nil, err
	}
	return `SELECT (` + a + `) - (` + d + `)`, append(aargs, dargs...), nil
}

// overdueCount is the query of the total of f, a search of findings
// overdue (f prepared). An overdue finding is one not closed whose
// deadline passed (findings.Overdue): f's matches among the findings not
// closed, which the index counts when f's other conditions are in its
// match, less those whose deadline is still to come. These are few and
// recent (deadlines are hours and days away): their matches are read
// from the index's end, from their least rowid on, where the overdue
// findings' entries probed the list of every match not closed for IN
// (消毒: 26,500, ~20 ms besides the index's 26).
func (s *Store) overdueCount(ctx context.Context, f Filter) (string, []any, error) {
	open := f
	open.Overdue = nil
	open.Statuses = openStatuses
	if len(f.Statuses) > 0 {
		open.Statuses = slices.DeleteFunc(slices.Clone(f.Statuses), func(st string) bool { return !slices.Contains(openStatuses, st) })
		if len(open.Statuses) == 0 {
			return `SELECT 0`, nil, nil // closed findings are never overdue
		}
	}
	var err error
	if open, err = s.prepareSearch(ctx, open); err != nil {
		return "", nil, err
	}
	if !open.inMatch() {
		count, args := countQuery(f)
		return count, args, nil
	}
	all, aargs := countQuery(open)
	where, margs := open.matchWhere()
	statuses := `(?` + strings.Repeat(", ?", len(open.Statuses)-1) + `)`
	now := sqlitedb.FormatTime(f.Now)
	notDue := `SELECT count(*) FROM findings f WHERE f.status IN ` + statuses + ` AND f.deadline >= ? AND f.rowid IN (SELECT docid FROM review_fts WHERE ` +
		where + ` AND docid >= (SELECT min(rowid) FROM findings WHERE status IN ` + statuses + ` AND deadline >= ?))`
	args := append(aargs, anys(open.Statuses)...)
	args = append(append(args, now), margs...)
	args = append(append(args, anys(open.Statuses)...), now)
	return `SELECT (` + all + `) - (` + notDue + `)`, args, nil
}

// countQuery is the query of f's total.
func countQuery(f Filter) (string, []any) {
	where, args := f.where()
	if len(args) == 0 && where == everything {
		return keptCount, nil
	}
	if f.onSitesOnly() {
		// A district's, a site type's: their sites' kept numbers.
		return f.keptOfSites()
	}
	if opp, ok := f.opposite(); ok {
		// Nearly every finding (906,516 not overdue at a million), or of
		// its sites (561,776 hotels' not overdue): the kept number less the
		// opposite's few, in one statement, one snapshot.
		kept, keptArgs := keptCount, []any(nil)
		if f.onSites() {
			kept, keptArgs = f.keptOfSites()
		}
		where, args := opp.where()
		return `SELECT (` + kept + `) - (SELECT count(*) FROM findings f WHERE ` + where + `)`, append(keptArgs, args...)
	}
	if f.inMatch() {
		// Each document is of one finding there is, under its rowid
		// (migration 0022), with its site (0027): the match counts them
		// without a finding's index (226,000 of a common word at a million
		// findings; 消毒's 312,000 in a district's 64,000, intersected in
		// the index: 90 → 22 ms of CPU).
		if without, some, ok := f.noOutcome(); ok {
			// Those with no outcome (o0: 931,000 entries at a million
			// findings, read whole, ~40 ns each) are the matches less those
			// with any (oa: the few a supervisor recorded one for).
			w, wargs := without.matchWhere()
			a, aargs := some.matchWhere()
			return `SELECT (SELECT count(*) FROM review_fts WHERE ` + w + `) - (SELECT count(*) FROM review_fts WHERE ` + a + `)`,
				append(wargs, aargs...)
		}
		where, args := f.matchWhere()
		return `SELECT count(*) FROM review_fts WHERE ` + where, args
	}
	return `SELECT count(*) FROM findings f WHERE ` + where, args
}

// noOutcome is, for f whose match names findings with no outcome (o0),
// f's match without that condition and with its opposite (oa): every
// finding has one of the two words.
func (f Filter) noOutcome() (without, some Filter, ok bool) {
	for i, c := range f.matched {
		if c.key == "outcome" && slices.Equal(c.words, outcomeWords([]string{OutcomeNone})) {
			without, some = f, f
			without.matched = slices.Delete(slices.Clone(f.matched), i, i+1)
			some.matched = slices.Clone(f.matched)
			some.matched[i].words = outcomeWords([]string{OutcomeAny})
			return without, some, true
		}
	}
	return f, f, false
}

// pageQuery is the query of p's keys (the id last) in f, total of them,
// after c's row.
func (s *Store) pageQuery(ctx context.Context, f Filter, p Page, keys []sortKey, total int, c cursor) (string, []any, error) {
	if f.Q != "" && p.Sort == boundedSort {
		// The newest matches, read from the index's end, bound the page:
		// a few hundred matches by rowid and sorted, where the page walked
		// the latest findings testing each against all the matches
		// gathered (整改: 226,000).
		var err error
		if f.matchFrom, err = s.matchBound(ctx, f, p, keys, c); err != nil {
			return "", nil, err
		}
	}
	where, args := f.where()
	from := `findings f`
	if f.matchFrom > 0 {
		// Read by rowid, the few matches from the bound on.
	} else if walk, err := s.walkInOrder(ctx, f, p, total); err != nil {
		return "", nil, err
	} else if walk {
		where = `+(` + where + `)`
		// The findings overdue are among the ~10% not closed: their own
		// index in the page's order, with the deadline in it, holds them
		// (at 1M findings 526 ms of CPU walking every finding back to the
		// old ones overdue). INDEXED BY a partial index wants its
		// condition seen outside +(…).
		if idx := openWalked[p.Sort]; idx != "" && f.Overdue != nil && *f.Overdue {
			from = `findings f INDEXED BY ` + idx
			where = `f.status NOT IN ('verified', 'withdrawn') AND ` + where
		}
	}
	cols, order := keyColumns(keys)
	if len(c.Keys) > 0 {
		cond, cargs := after(keys, c.Keys)
		where, args = where+` AND `+cond, append(args, cargs...)
	}
	return `SELECT ` + cols + ` FROM ` + from + ` WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ?`, append(args, p.Limit+1), nil
}

// Queries are the count and the first page's query List runs for f and p,
// with their arguments: what bench review --explain shows the plans of.
func (s *Store) Queries(ctx context.Context, f Filter, p Page) (count string, countArgs []any, page string, pageArgs []any, err error) {
	if p.Sort == "" {
		p.Sort = Sorts[0]
	}
	if p.Limit < 1 || p.Limit > MaxLimit {
		p.Limit = DefaultLimit
	}
	keys, ok := sorts[p.Sort]
	if !ok {
		return "", nil, "", nil, fault.Field("sort", "%q: want one of %s", p.Sort, strings.Join(Sorts, ", "))
	}
	if f, err = s.prepareSearch(ctx, f); err != nil {
		return "", nil, "", nil, err
	}
	if count, countArgs, err = s.searchCount(ctx, f); err != nil {
		return "", nil, "", nil, err
	}
	var total int
	if err := s.db.QueryRowContext(ctx, count, countArgs...).Scan(&total); err != nil {
		return "", nil, "", nil, fmt.Errorf("counting the review list (%s): %w", f.describe(), err)
	}
	page, pageArgs, err = s.pageQuery(ctx, f.countedMatches(total), p, keys, total, cursor{})
	return count, countArgs, page, pageArgs, err
}

// walked are the orders an index keeps findings in (migrations 0014,
// 0018 and 0019: findings_observed, findings_deadline,
// findings_severity_observed, findings_site_order).
var walked = map[string]bool{"-observed_at": true, "observed_at": true, "deadline": true, "-deadline": true, "severity": true, "site": true}

// openWalked are the indexes of the findings not closed in a page's order
// (migrations 0018 and 0019), which an overdue page walks.
var openWalked = map[string]string{"-observed_at": "findings_open_observed", "observed_at": "findings_open_observed",
	"deadline": "findings_open_deadline", "-deadline": "findings_open_deadline"}

// maxWalk is about how many findings a page may test, walking its order's
// index, rather than take the filter's index and sort what it keeps.
const maxWalk = 20000

// walkInOrder tells whether the page is found sooner walking the index of
// its order, testing each finding against the filter (+(…): no index
// for the filter), than by SQLite's own choice, which takes the filter's
// index whenever it has one (a district's sites, a status) and sorts all
// it keeps, tens of thousands at a million findings, to return 50. Walking
// in order, a filter keeping total of n findings finds a page of limit
// within about limit×n/total. A filter with one value of a column whose
// index is in the list's order (inOrder) is read from that index, and a
// few outcomes from theirs (fewOutcomes); but overdue findings, old and
// among the few not closed, are found sooner walking those.
func (s *Store) walkInOrder(ctx context.Context, f Filter, p Page, total int) (bool, error) {
	if !walked[p.Sort] || total == 0 {
		return false, nil
	}
	overdueWalk := openWalked[p.Sort] != "" && f.Overdue != nil && *f.Overdue
	if !overdueWalk && (f.inOrder(p.Sort) || f.fewOutcomes(total)) {
		return false, nil
	}
	var n sql.NullInt64 // the rowids only grow: about the count, at once
	if err := s.db.QueryRowContext(ctx, `SELECT max(rowid) FROM findings`).Scan(&n); err != nil {
		return false, fmt.Errorf("sizing the findings: %w", err)
	}
	return int64(p.Limit)*n.Int64 <= int64(total)*maxWalk, nil
}

// orderedBy are the filter's parameters whose one value an index keeps in
// observed_at order (column, observed_at, id): findings_site_order (0018,
// newest first), findings_template_observed and findings_status_observed
// (0018), findings_deviation_observed, findings_reviewed and
// findings_outcomes_observed (0019; outcome=none: the other outcome
// filters are several values of outcome_kinds).
var orderedBy = map[string]func(v string) bool{
	"site":      func(string) bool { return true },
	"template":  func(string) bool { return true },
	"status":    func(string) bool { return true },
	"deviation": func(string) bool { return true },
	"reviewed":  func(string) bool { return true },
	"outcome":   func(v string) bool { return v == OutcomeNone },
}

// inOrder tells whether one of f's conditions is one value of a parameter
// in orderedBy and the sort is by observed_at: SQLite reads that index in
// the page's order, testing the rest, and stops at the page's end.
func (f Filter) inOrder(sort string) bool {
	if sort != "-observed_at" && sort != "observed_at" {
		return false
	}
	for k, vs := range f.Query() {
		if ok := orderedBy[k]; ok != nil && len(vs) == 1 && !strings.Contains(vs[0], ",") && ok(vs[0]) {
			return true
		}
	}
	return false
}

// keptCount is the number of findings, kept by triggers as they are filed
// (migration 0023), where a count(*) reads a whole index (~40 ms of CPU
// at a million findings).
const keptCount = `SELECT findings FROM review_counts WHERE id = 1`

// siteKeys are the filter's parameters on where a finding is: sums of
// the sites' kept numbers (review_site_counts, migration 0026) count them.
var siteKeys = []string{"district", "site", "site_type"}

// onSites tells whether f has a condition on the findings' sites.
func (f Filter) onSites() bool {
	return len(f.Districts) > 0 || len(f.Sites) > 0 || len(f.SiteTypes) > 0
}

// besidesSites are f's parameters other than those on the sites.
func (f Filter) besidesSites() url.Values {
	q := f.Query()
	for _, k := range siteKeys {
		q.Del(k)
	}
	return q
}

// onSitesOnly tells whether f's conditions are all on the sites.
func (f Filter) onSitesOnly() bool {
	return f.onSites() && len(f.besidesSites()) == 0
}

// keptOfSites is the query of the findings' number at f's sites, summed
// from their kept numbers.
func (f Filter) keptOfSites() (string, []any) {
	conds, args := f.siteConds(`c.site_id`)
	return `SELECT coalesce(sum(c.findings), 0) FROM review_site_counts c WHERE ` + strings.Join(conds, ` AND `), args
}

// opposite is, for a filter of one negative condition (not overdue, not
// reviewed, no outcome) alone or with conditions on the sites, the filter
// of its opposite at the same sites: the two together are every finding
// there, exactly, whatever their statuses and deadlines.
func (f Filter) opposite() (Filter, bool) {
	q := f.besidesSites()
	if len(q) != 1 {
		return Filter{}, false
	}
	yes := true
	opp := Filter{Now: f.Now, Loc: f.Loc, Districts: f.Districts, Sites: f.Sites, SiteTypes: f.SiteTypes}
	switch {
	case q.Has("overdue") && !*f.Overdue:
		opp.Overdue = &yes
	case q.Has("reviewed") && !*f.Reviewed:
		opp.Reviewed = &yes
	case q.Has("outcome") && len(f.Outcomes) == 1 && f.Outcomes[0] == OutcomeNone:
		opp.Outcomes = []string{OutcomeAny}
	default:
		return Filter{}, false
	}
	return opp, true
}

// alone tells whether f has the one parameter key and no other.
func (f Filter) alone(key string) bool {
	q := f.Query()
	return len(q) == 1 && q.Has(key)
}

// fewOutcomes tells whether f is outcomes of some kinds alone, a few
// thousand at a million findings: their index (outcome_kinds, observed_at,
// id) holds each with its keys, read and sorted in a few milliseconds,
// where walking the list's order reads ~140 findings for each one kept.
func (f Filter) fewOutcomes(total int) bool {
	q := f.Query()
	return len(q) == 1 && len(f.Outcomes) > 0 && f.Outcomes[0] != OutcomeAny && f.Outcomes[0] != OutcomeNone && total <= maxWalk
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
	err = s.each(ctx, `SELECT f.id FROM findings f WHERE f.id IN `+marks+` AND f.repeat_gap_ms <= ?`, append(args, repeatDays*dayMillis), func(scan func(...any) error) error {
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
