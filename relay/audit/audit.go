// Package audit keeps the record of what left the relay as a document:
// every report, notice, notice PDF and review-list export, with who asked,
// when, in which format and over which filter. It owns the table
// audit_exports of the relay database (relay/store's migration 0017).
package audit

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// What a document is.
const (
	WhatReport       = "report"
	WhatNotice       = "notice"
	WhatNoticePDF    = "notice_pdf"
	WhatReviewExport = "review_export"
)

// Entry is one document made: what (WhatReport…), its format (json, xlsx,
// pdf, csv), the filter it was made from (a query string) and a detail
// (a notice's number, a report's period).
type Entry struct {
	What, Format, Filter, Detail string
}

// Log is the audit record.
type Log struct {
	db  *sql.DB
	now func() time.Time
}

// New returns the audit record kept in db (the relay database); now is
// its clock (time.Now when nil).
func New(db *sql.DB, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{db: db, now: now}
}

// Record keeps that by made the document e. A document whose record failed
// must not be handed out: callers record first and answer after.
func (l *Log) Record(ctx context.Context, by auth.Principal, e Entry) error {
	if e.What == "" {
		return fmt.Errorf("recording an export: what is missing")
	}
	_, err := l.db.ExecContext(ctx, `INSERT INTO audit_exports (at, actor, role, what, format, filter, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, sqlitedb.FormatTime(l.now()), by.Name, string(by.Role), e.What, e.Format, e.Filter, e.Detail)
	if err != nil {
		return fmt.Errorf("recording the %s export of %s: %w", e.What, by.Name, err)
	}
	return nil
}

// Query selects records: made in [From, To) (zero: unbounded), by Actor
// when set; at most Limit (default and most MaxList), newest first.
type Query struct {
	From, To time.Time
	Actor    string
	Limit    int
}

// MaxList is the most records one answer holds.
const MaxList = 1000

// List returns the records of q to a supervisor or an admin.
func (l *Log) List(ctx context.Context, p auth.Principal, q Query) ([]wire.AuditExport, error) {
	if p.Role != auth.RoleSupervisor && p.Role != auth.RoleAdmin {
		return nil, fault.New(fault.Forbidden, "forbidden", "the record of exports is for supervisors and admins")
	}
	if q.Limit <= 0 || q.Limit > MaxList {
		q.Limit = MaxList
	}
	sqlq := `SELECT id, at, actor, role, what, format, filter, detail FROM audit_exports WHERE 1 = 1`
	var args []any
	if !q.From.IsZero() {
		sqlq, args = sqlq+` AND at >= ?`, append(args, sqlitedb.FormatTime(q.From))
	}
	if !q.To.IsZero() {
		sqlq, args = sqlq+` AND at < ?`, append(args, sqlitedb.FormatTime(q.To))
	}
	if q.Actor != "" {
		sqlq, args = sqlq+` AND actor = ?`, append(args, q.Actor)
	}
	rows, err := l.db.QueryContext(ctx, sqlq+` ORDER BY id DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("reading the record of exports: %w", err)
	}
	defer rows.Close()
	out := []wire.AuditExport{}
	for rows.Next() {
		var e wire.AuditExport
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Role, &e.What, &e.Format, &e.Filter, &e.Detail); err != nil {
			return nil, fmt.Errorf("reading the record of exports: %w", err)
		}
		if e.At, err = sqlitedb.ParseTime(at); err != nil {
			return nil, fmt.Errorf("reading the record of exports: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
