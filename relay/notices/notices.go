// Package notices keeps the 监督意见书: a supervisor compiles a site's open
// findings into one numbered notice, which the site manager answers item by
// item through each finding's own rectification (relay/findings), and
// which is closed when every item's finding is. It numbers notices per
// year in the order issued, in the transaction that keeps them, records
// the outcome notice_issued on each finding (relay/review) and the issue
// in the audit (relay/audit), and draws a notice as a PDF (relay/pdfdoc).
// Plain Go over the relay's SQLite, where it owns the tables notices,
// notice_items and notice_numbers (relay/store's migration 0016); it reads
// findings only through relay/findings. relay/api and relay/sitepage are
// its adapters.
package notices

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/audit"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Findings reads the findings notices are made of (relay/findings.Store).
type Findings interface {
	Get(ctx context.Context, by auth.Principal, id string) (findings.Finding, error)
	List(ctx context.Context, by auth.Principal, flt findings.Filter) ([]findings.Finding, error)
	// Several reads many at once, without their events, checking no role.
	Several(ctx context.Context, ids []string) (map[string]findings.Finding, error)
	Open(ctx context.Context, by auth.Principal, id, name string) (*os.File, findings.File, error)
}

// Sites names the sites (relay/store.Store).
type Sites interface {
	Sites(ctx context.Context) ([]store.Site, error)
}

// Outcomes records an enforcement outcome on a finding (relay/review.Store).
type Outcomes interface {
	AddOutcome(ctx context.Context, by auth.Principal, findingID string, o wire.Outcome) error
}

// Audit keeps the record of documents made (relay/audit.Log).
type Audit interface {
	Record(ctx context.Context, by auth.Principal, e audit.Entry) error
}

// Config is what a Store needs.
type Config struct {
	// DB is the relay database, its schema brought up to date by
	// relay/store.OpenDatabase.
	DB       *sql.DB
	Findings Findings
	Sites    Sites
	Outcomes Outcomes
	Audit    Audit
	// Zone is the duty room's time zone: a notice is numbered in the year
	// of its issue there.
	Zone *time.Location
	// Now is the clock of issue times (time.Now when nil).
	Now func() time.Time
	Log zerolog.Logger
}

// Store is the notices.
type Store struct {
	Config
}

// New returns the store.
func New(cfg Config) *Store {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Zone == nil {
		cfg.Zone = time.Local
	}
	return &Store{cfg}
}

// MaxItems bounds a notice: a site's open findings, not a city's.
const MaxItems = 200

// Number is how a notice is numbered in lang: 千监意〔2026〕0001号, or
// QLY-N-2026-0001 in English.
func Number(lang string, year, seq int) string {
	if lang == bilingual.EN {
		return fmt.Sprintf("QLY-N-%d-%04d", year, seq)
	}
	return fmt.Sprintf("千监意〔%d〕%04d号", year, seq)
}

// mayIssue: supervisors and admins issue notices; duty officers read them.
func mayIssue(r auth.Role) bool { return r == auth.RoleSupervisor || r == auth.RoleAdmin }

var admin = auth.Principal{Name: "relay", Role: auth.RoleAdmin}

// Issue makes a notice over req's findings (every one eligible of the
// site when none is named): numbered, kept with its items in one
// transaction, then the outcome recorded on each finding and the issue
// audited.
func (s *Store) Issue(ctx context.Context, by auth.Principal, req wire.NoticeRequest) (wire.Notice, error) {
	if !mayIssue(by.Role) {
		return wire.Notice{}, fault.New(fault.Forbidden, "forbidden", "a %s may not issue notices: supervisors and admins do", by.Role)
	}
	if req.Lang == "" {
		req.Lang = bilingual.ZH
	}
	if !bilingual.Known(req.Lang) {
		return wire.Notice{}, fault.Field("lang", "%q is not one of %s", req.Lang, strings.Join(bilingual.Languages, ", "))
	}
	site, err := s.site(ctx, req.Site)
	if err != nil {
		return wire.Notice{}, err
	}
	if len(req.Findings) > MaxItems {
		return wire.Notice{}, fault.Field("findings", "%d findings: a notice has at most %d", len(req.Findings), MaxItems)
	}
	chosen, err := s.choose(ctx, site.ID, req.Findings)
	if err != nil {
		return wire.Notice{}, err
	}
	n := newNotice{id: uuid.NewString(), site: site.ID, lang: req.Lang, by: by, at: s.Now()}
	for i, f := range chosen {
		n.items = append(n.items, itemOf(i+1, f))
	}
	if err := s.insert(ctx, &n); err != nil {
		return wire.Notice{}, err
	}
	// Recorded even if the one who asked has gone: the notice is issued.
	s.record(context.WithoutCancel(ctx), n.id)
	return s.Get(ctx, by, n.id)
}

// site returns the site a notice is for.
func (s *Store) site(ctx context.Context, id string) (store.Site, error) {
	if strings.TrimSpace(id) == "" {
		return store.Site{}, fault.Field("site", "required: the site the notice is for")
	}
	sites, err := s.Sites.Sites(ctx)
	if err != nil {
		return store.Site{}, fmt.Errorf("reading sites for a notice: %w", err)
	}
	for _, st := range sites {
		if st.ID == id {
			return st, nil
		}
	}
	e := fault.Field("site", "%q is not one of the relay's sites", id)
	e.Code = "unknown_site"
	return store.Site{}, e
}

// choose returns the findings a notice to site is over: ids, each checked,
// or with none every finding of the site not closed and in no notice.
func (s *Store) choose(ctx context.Context, site string, ids []string) ([]findings.Finding, error) {
	if len(ids) == 0 {
		all, err := s.Findings.List(ctx, admin, findings.Filter{Site: site, Statuses: []findings.Status{
			findings.StatusOpen, findings.StatusAcknowledged, findings.StatusRectified, findings.StatusReopened}})
		if err != nil {
			return nil, err
		}
		in, err := s.inNotices(ctx, idsOf(all))
		if err != nil {
			return nil, err
		}
		out := all[:0]
		for _, f := range all {
			if in[f.ID] == "" {
				out = append(out, f)
			}
		}
		if len(out) == 0 {
			return nil, fault.New(fault.Unprocessable, "nothing_to_notice", "site %s has no finding that is open and in no notice", site)
		}
		if len(out) > MaxItems {
			return nil, fault.Field("findings", "site %s has %d findings to notify: choose at most %d", site, len(out), MaxItems)
		}
		// Oldest first: the order they were found in.
		slices.SortStableFunc(out, func(a, b findings.Finding) int { return a.ObservedAt.Compare(b.ObservedAt) })
		return out, nil
	}
	got, err := s.Findings.Several(ctx, ids)
	if err != nil {
		return nil, err
	}
	in, err := s.inNotices(ctx, ids)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := make([]findings.Finding, 0, len(ids))
	for i, id := range ids {
		field := fmt.Sprintf("findings[%d]", i)
		f, ok := got[id]
		switch {
		case seen[id]:
			return nil, fault.Field(field, "finding %s is named twice", id)
		case !ok:
			e := fault.Field(field, "no finding %s", id)
			e.Code = "unknown_finding"
			return nil, e
		case f.Site != site:
			e := fault.Field(field, "finding %s is of site %s, not %s: a notice is to one site", id, f.Site, site)
			e.Code = "other_site"
			return nil, e
		case f.Status.Closed():
			return nil, &fault.Error{Kind: fault.Conflict, Code: "finding_closed", Field: field,
				Message: fmt.Sprintf("%s: finding %s is %s: a notice is over what the site still has to do", field, id, f.Status)}
		case in[id] != "":
			return nil, &fault.Error{Kind: fault.Conflict, Code: "finding_in_notice", Field: field,
				Message: fmt.Sprintf("%s: finding %s is already in notice %s", field, id, in[id])}
		}
		seen[id] = true
		out = append(out, f)
	}
	return out, nil
}

func idsOf(fs []findings.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

// inNotices returns the notice each of ids is in, by finding.
func (s *Store) inNotices(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 500)]
		ids = ids[len(batch):]
		rows, err := s.DB.QueryContext(ctx, `SELECT finding_id, notice_id FROM notice_items WHERE finding_id IN (`+marks(len(batch))+`)`, anys(batch)...)
		if err != nil {
			return nil, fmt.Errorf("reading the findings' notices: %w", err)
		}
		for rows.Next() {
			var f, n string
			if err := rows.Scan(&f, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading the findings' notices: %w", err)
			}
			out[f] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading the findings' notices: %w", err)
		}
	}
	return out, nil
}

func marks(n int) string { return "?" + strings.Repeat(", ?", n-1) }

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// item is a notice's item as kept.
type item struct {
	position    int
	finding     string
	deviation   bilingual.Text
	requirement bilingual.Text
	deadline    time.Time
}

// itemOf is finding f as item position of a notice: its deviation in both
// languages (the catalogue's words, else as typed) and what the site is
// required to do, by its severity (the catalogue says no requirement of
// its own).
func itemOf(position int, f findings.Finding) item {
	dev := bilingual.Text{}
	for _, lang := range bilingual.Languages {
		dev[lang] = findings.Title(f.Draft, lang)
	}
	return item{position: position, finding: f.ID, deviation: dev, requirement: phrases.Of("notice_requirement_" + f.Severity), deadline: f.Deadline}
}

type newNotice struct {
	id, site, lang string
	by             auth.Principal
	at             time.Time
	items          []item
	year, seq      int
}

// insert keeps the notice and its items with the year's next number, in
// one transaction: two supervisors issuing at once get two numbers, and a
// finding two notices name goes in the first only.
func (s *Store) insert(ctx context.Context, n *newNotice) error {
	n.year = n.at.In(s.Zone).Year()
	tx, err := s.DB.BeginTx(ctx, nil) // the relay's BEGIN IMMEDIATE: writers queue here
	if err != nil {
		return fmt.Errorf("issuing a notice: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `INSERT INTO notice_numbers (year, last) VALUES (?, 1)
		ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last`, n.year).Scan(&n.seq); err != nil {
		return fmt.Errorf("numbering a notice: %w", err)
	}
	at := sqlitedb.FormatTime(n.at)
	if _, err := tx.ExecContext(ctx, `INSERT INTO notices (id, year, seq, site_id, lang, issued_by, issued_role, issued_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, n.id, n.year, n.seq, n.site, n.lang, n.by.Name, string(n.by.Role), at); err != nil {
		return fmt.Errorf("issuing a notice: %w", err)
	}
	for _, it := range n.items {
		dev, _ := json.Marshal(it.deviation) // maps of strings: cannot fail
		req, _ := json.Marshal(it.requirement)
		_, err := tx.ExecContext(ctx, `INSERT INTO notice_items (notice_id, position, finding_id, deviation, requirement, deadline)
			VALUES (?, ?, ?, ?, ?, ?)`, n.id, it.position, it.finding, string(dev), string(req), sqlitedb.FormatTime(it.deadline))
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return &fault.Error{Kind: fault.Conflict, Code: "finding_in_notice", Field: fmt.Sprintf("findings[%d]", it.position-1),
				Message: fmt.Sprintf("finding %s went into another notice meanwhile", it.finding), Err: err}
		}
		if err != nil {
			return fmt.Errorf("issuing a notice: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("issuing a notice: %w", err)
	}
	return nil
}

// record writes what issuing a notice writes elsewhere: the outcome
// notice_issued with its number on each item's finding (idempotent), and
// the audit's record of the issue; then marks the notice recorded. A
// failure is logged and done again at the next start (Resume).
func (s *Store) record(ctx context.Context, id string) {
	if err := s.recordOne(ctx, id); err != nil {
		s.Log.Error().Err(err).Str("notice", id).Msg("recording a notice's outcomes and audit: done again at the next start")
	}
}

func (s *Store) recordOne(ctx context.Context, id string) error {
	var r struct {
		lang, site, by, role string
		year, seq            int
	}
	if err := s.DB.QueryRowContext(ctx, `SELECT lang, site_id, issued_by, issued_role, year, seq FROM notices WHERE id = ?`, id).
		Scan(&r.lang, &r.site, &r.by, &r.role, &r.year, &r.seq); err != nil {
		return fmt.Errorf("reading notice %s: %w", id, err)
	}
	by := auth.Principal{Name: r.by, Role: auth.Role(r.role)}
	number := Number(r.lang, r.year, r.seq)
	items, err := s.items(ctx, []string{id})
	if err != nil {
		return err
	}
	var ids []string
	for _, it := range items[id] {
		ids = append(ids, it.finding)
		if s.Outcomes != nil {
			if err := s.Outcomes.AddOutcome(ctx, by, it.finding, wire.Outcome{Kind: wire.OutcomeNoticeIssued, DocNumber: number}); err != nil {
				return fmt.Errorf("recording notice %s on finding %s: %w", number, it.finding, err)
			}
		}
	}
	if s.Audit != nil {
		detail, _ := json.Marshal(map[string]any{"notice": id, "number": number, "findings": ids})
		if err := s.Audit.Record(ctx, by, audit.Entry{What: audit.WhatNotice, Format: "json", Filter: "site=" + r.site, Detail: string(detail)}); err != nil {
			return err
		}
	}
	if _, err := s.DB.ExecContext(ctx, `UPDATE notices SET recorded = 1 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("marking notice %s recorded: %w", id, err)
	}
	return nil
}

// Resume records what issuing notices left unrecorded (a failure, or a
// relay stopped between the notice and its outcomes).
func (s *Store) Resume(ctx context.Context) error {
	rows, err := s.DB.QueryContext(ctx, `SELECT id FROM notices WHERE recorded = 0 ORDER BY issued_at`)
	if err != nil {
		return fmt.Errorf("reading notices left unrecorded: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("reading notices left unrecorded: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading notices left unrecorded: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if err := s.recordOne(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
