package review

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// The full-text index (migration 0014): review_fts's grams column holds
// each word of other scripts whole and each run of CJK characters as its
// overlapping pairs, chars the CJK characters one by one. Chinese is
// written without spaces and no tokenizer of SQLite's cuts it into words;
// pairs find any word of two characters or more (a phrase of its pairs),
// single characters the rest. The other columns hold the finding's
// values a filter asks for as words (valueWord, migration 0027).

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// pieces cuts text into its words: runs of CJK characters, and runs of
// other letters and digits, lower-cased.
func pieces(text string) (out []piece) {
	var cur []rune
	cjk := false
	flush := func() {
		if len(cur) > 0 {
			out = append(out, piece{cjk: cjk, runes: cur})
		}
		cur = nil
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case isCJK(r):
			if !cjk {
				flush()
			}
			cjk = true
			cur = append(cur, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if cjk {
				flush()
			}
			cjk = false
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

type piece struct {
	cjk   bool
	runes []rune
}

// grams are the piece's entries in the grams column.
func (p piece) grams() []string {
	if !p.cjk || len(p.runes) < 2 {
		return []string{string(p.runes)}
	}
	out := make([]string, 0, len(p.runes)-1)
	for i := 0; i+1 < len(p.runes); i++ {
		out = append(out, string(p.runes[i:i+2]))
	}
	return out
}

// document is the index's two columns for a finding's texts.
func document(texts []string) (grams, chars string) {
	var g, c []string
	for _, t := range texts {
		for _, p := range pieces(t) {
			g = append(g, p.grams()...)
			if p.cjk {
				for _, r := range p.runes {
					c = append(c, string(r))
				}
			}
		}
	}
	return strings.Join(g, " "), strings.Join(c, " ")
}

// maxTerms bounds the words of one search.
const maxTerms = 16

// matchQuery is the MATCH expression of a search: every word of q must be
// in the finding's texts (a word of other scripts as a prefix). It is
// made of the index's own words only, so nothing the user types is read
// as query syntax; "" when q has no word.
func matchQuery(q string) string {
	var terms []string
	for _, p := range pieces(q) {
		switch {
		case p.cjk && len(p.runes) == 1:
			terms = append(terms, "chars:"+string(p.runes))
		case p.cjk:
			// FTS4 takes no column before a phrase; the pairs are in
			// grams only (chars holds single characters).
			terms = append(terms, `"`+strings.Join(p.grams(), " ")+`"`)
		default:
			// grams: never the values' words (valueWord), whatever is
			// typed.
			terms = append(terms, "grams:"+string(p.runes)+"*")
		}
		if len(terms) == maxTerms {
			break
		}
	}
	return strings.Join(terms, " ")
}

// valueWord is a finding's value in its column of the index (site,
// status, severity, template, deviation, officer), or its site's district
// or type in the site column: a tag and the value's bytes in hex, one
// word to the tokenizer whatever the value is written with, "" too
// (review_doc_words, migrations 0027 and 0028, writes them in SQL:
// 'k' || lower(hex(value))).
func valueWord(tag, v string) string {
	return tag + hex.EncodeToString([]byte(v))
}

// The tags of the values' words.
const (
	valueTag    = "k"
	districtTag = "d"
	siteTypeTag = "t"
)

// The words of a finding's review in the index's marks column
// (review_doc_words, migration 0028), as the filter's reviewed, outcome
// and repeat parameters ask: r1 reviewed, r0 not; o0 with no outcome, oa
// with any, and o and the kind's bit (outcomeBits) for each kind
// recorded; p and N when another finding of its deviation at its site is
// within N days, for the N of repeatMarks.
func reviewedWord(reviewed bool) string {
	if reviewed {
		return "r1"
	}
	return "r0"
}

// outcomeWords are the words of outcome=kinds: a finding with one of
// the kinds has one of them.
func outcomeWords(kinds []string) []string {
	switch {
	case len(kinds) == 1 && kinds[0] == OutcomeAny:
		return []string{"oa"}
	case len(kinds) == 1 && kinds[0] == OutcomeNone:
		return []string{"o0"}
	}
	words := make([]string, len(kinds))
	for i, k := range kinds {
		words[i] = fmt.Sprintf("o%d", outcomeBits[k])
	}
	return words
}

// repeatMarks are the repeat windows, in days, the index has a word for:
// those the review's filters offer.
var repeatMarks = []int{7, 30, 90}

// maxMatchedValues bounds the values of one condition a match names
// (matchWith). FTS4 balances a match's ANDs and ORs into a tree no deeper
// than 12: a search's 16 words and eight conditions (5 levels) and 128
// values each (7) fit; 500 sites did not.
const maxMatchedValues = 128

// matchCond is a condition of the filter's parameter key that a search's
// match names: one of words, in the index's column col.
type matchCond struct {
	key, col string
	words    []string
	vals     []string // the values the words are of, for their count
	tag      string
}

// valueCond is the condition on the values vals of the parameter key,
// as words of tag in the column col.
func valueCond(key, col, tag string, vals []string) matchCond {
	words := make([]string, len(vals))
	for i, v := range vals {
		words[i] = valueWord(tag, v)
	}
	return matchCond{key: key, col: col, words: words, vals: vals, tag: tag}
}

// matchWith is the MATCH expression of a search (a matchQuery) with
// conditions, each one of its words.
func matchWith(match string, conds []matchCond) string {
	for _, c := range conds {
		words := make([]string, len(c.words))
		for i, w := range c.words {
			words[i] = c.col + ":" + w
		}
		match += " (" + strings.Join(words, " OR ") + ")"
	}
	return match
}

// indexBatch is how many events one indexing transaction takes.
const indexBatch = 2000

// Index brings the full-text index up to date with the findings' events:
// every finding with an event since the last indexed is indexed again
// from what it says now.
func (s *Store) Index(ctx context.Context) error {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	if err := s.checkDocs(ctx); err != nil {
		return err
	}
	for {
		n, err := s.indexSome(ctx)
		if err != nil {
			return err
		}
		if n < indexBatch {
			return nil
		}
	}
}

// indexSome indexes the findings of the next batch of events, returning
// how many events it took.
func (s *Store) indexSome(ctx context.Context) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("indexing findings: %w", err)
	}
	defer tx.Rollback()
	var cursor int64
	if err := tx.QueryRowContext(ctx, `SELECT cursor FROM review_index_state WHERE id = 1`).Scan(&cursor); err != nil {
		return 0, fmt.Errorf("indexing findings: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, finding_id FROM finding_events WHERE id > ? ORDER BY id LIMIT ?`, cursor, indexBatch)
	if err != nil {
		return 0, fmt.Errorf("indexing findings: %w", err)
	}
	var ids []string
	seen := map[string]bool{}
	n := 0
	for rows.Next() {
		var fid string
		if err := rows.Scan(&cursor, &fid); err != nil {
			rows.Close()
			return 0, fmt.Errorf("indexing findings: %w", err)
		}
		n++
		if !seen[fid] {
			seen[fid] = true
			ids = append(ids, fid)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("indexing findings: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	texts, err := findingTexts(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := putDocument(ctx, tx, id, texts[id]); err != nil {
			return 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE review_index_state SET cursor = ? WHERE id = 1`, cursor); err != nil {
		return 0, fmt.Errorf("indexing findings: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("indexing findings: %w", err)
	}
	return n, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// findingTexts reads what is written of each finding: its deviation's
// words (as typed and the catalogue's in each language), its note, the
// notes of its history (the site's rectification reports, the officers'
// re-checks) and the supervisors' comments.
func findingTexts(ctx context.Context, q querier, ids []string) (map[string][]string, error) {
	out := make(map[string][]string, len(ids))
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 400)]
		ids = ids[len(batch):]
		marks := `(?` + strings.Repeat(", ?", len(batch)-1) + `)`
		args := anys(batch)
		for _, query := range []string{
			`SELECT id, deviation_text || ' ' || deviation_title || ' ' || note FROM findings WHERE id IN ` + marks,
			`SELECT finding_id, json_extract(detail, '$.note') FROM finding_events WHERE finding_id IN ` + marks +
				` AND json_valid(detail) AND coalesce(json_extract(detail, '$.note'), '') <> ''`,
			`SELECT finding_id, text FROM review_comments WHERE finding_id IN ` + marks,
		} {
			if err := collect(ctx, q, query, args, out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func collect(ctx context.Context, q querier, query string, args []any, into map[string][]string) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("reading findings' texts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var text sql.NullString
		if err := rows.Scan(&id, &text); err != nil {
			return fmt.Errorf("reading findings' texts: %w", err)
		}
		into[id] = append(into[id], text.String)
	}
	return rows.Err()
}

// putDocument replaces a finding's document, under its rowid (migration
// 0022), with its values' words as review_doc_words has them (0028):
// review_docs holds it, and its triggers index it in review_fts. An
// older document of the finding under another rowid goes (never, unless
// renumbered since the check).
func putDocument(ctx context.Context, tx querier, id string, texts []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM review_docs
		WHERE finding_id = ? OR docid = (SELECT rowid FROM findings WHERE id = ?)`, id, id); err != nil {
		return fmt.Errorf("indexing finding %s: %w", id, err)
	}
	grams, chars := document(texts)
	res, err := tx.ExecContext(ctx, `INSERT INTO review_docs (docid, finding_id, grams, chars, site, status, severity, template, deviation, officer, marks)
		SELECT docid, finding_id, ?, ?, site, status, severity, template, deviation, officer, marks FROM review_doc_words WHERE finding_id = ?`,
		grams, chars, id)
	if err != nil {
		return fmt.Errorf("indexing finding %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("indexing finding %s: no such finding (%d rows, %v)", id, n, err)
	}
	return nil
}

// checkDocs makes sure every document of the index is under its finding's
// rowid, once a process, before the first indexing: the rowids are
// SQLite's own (findings has no INTEGER PRIMARY KEY), which the
// documentation says VACUUM may renumber, and a record dumped and read back
// is renumbered. The relay never VACUUMs; if the rowids moved all the same,
// the index is emptied and made again from the first event, and a search
// finds less until it is; the hours' rowids are made again at once.
func (s *Store) checkDocs(ctx context.Context) error {
	if s.docsChecked {
		return nil
	}
	var moved int
	// The findings' key index holds each id with its rowid: one seek a
	// document, no finding's row read.
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM review_docs d
		WHERE NOT EXISTS (SELECT 1 FROM findings f WHERE f.id = d.finding_id AND f.rowid = d.docid)`).Scan(&moved); err != nil {
		return fmt.Errorf("checking the search index against the findings: %w", err)
	}
	if moved > 0 {
		s.log.Warn().Int("documents", moved).Msg("the findings' rowids moved under the search index (a VACUUM or a restore): indexing every finding again")
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("emptying the search index: %w", err)
		}
		defer tx.Rollback()
		// review_hours' rowids (migration 0027) moved with them: made again.
		// review_docs's triggers take each document out of review_fts.
		for _, q := range []string{`DELETE FROM review_docs`, `UPDATE review_index_state SET cursor = 0 WHERE id = 1`,
			`DELETE FROM review_hours`, `INSERT INTO review_hours (hour, findings, lo, hi)
				SELECT unixepoch(observed_at) / 3600, count(*), min(rowid), max(rowid) FROM findings GROUP BY 1`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("emptying the search index: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("emptying the search index: %w", err)
		}
	}
	s.docsChecked = true
	return nil
}

// Run keeps the full-text index up to date until ctx ends: at every change
// of a finding, and every interval besides (the review's own records are
// indexed as they are made).
func (s *Store) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		changed := s.findings.Changed()
		if err := s.Index(ctx); err != nil && ctx.Err() == nil {
			s.log.Error().Err(err).Msg("indexing findings for the review's search")
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-t.C:
		}
	}
}
