package audit_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/audit"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/store"
)

func TestRecordAndList(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenDatabase(ctx, filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := fakeclock.New(time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC))
	log := audit.New(db, clock.Now)
	sup := auth.Principal{Name: "sup", Role: auth.RoleSupervisor}
	admin := auth.Principal{Name: "root", Role: auth.RoleAdmin}
	if err := log.Record(ctx, sup, audit.Entry{What: audit.WhatReport, Format: "xlsx", Filter: "date=2026-12-01", Detail: "weekly"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if err := log.Record(ctx, admin, audit.Entry{What: audit.WhatReviewExport, Format: "csv", Filter: "district=东城区"}); err != nil {
		t.Fatal(err)
	}

	all, err := log.List(ctx, sup, audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Actor != "root" || all[1].Actor != "sup" {
		t.Fatalf("newest first, both: %+v", all)
	}
	if e := all[1]; e.What != "report" || e.Format != "xlsx" || e.Filter != "date=2026-12-01" || e.Detail != "weekly" ||
		e.Role != "supervisor" || !e.At.Equal(time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("the report's record: %+v", e)
	}
	for _, c := range []struct {
		name string
		q    audit.Query
		want int
	}{
		{"by actor", audit.Query{Actor: "root"}, 1},
		{"from", audit.Query{From: time.Date(2026, 12, 2, 1, 30, 0, 0, time.UTC)}, 1},
		{"to", audit.Query{To: time.Date(2026, 12, 2, 1, 30, 0, 0, time.UTC)}, 1},
		{"limit", audit.Query{Limit: 1}, 1},
		{"nobody", audit.Query{Actor: "duty1"}, 0},
	} {
		got, err := log.List(ctx, admin, c.q)
		if err != nil || len(got) != c.want {
			t.Errorf("%s: %d records, %v; want %d", c.name, len(got), err, c.want)
		}
	}
	for _, r := range []auth.Role{auth.RoleDuty, auth.RoleSiteManager} {
		if _, err := log.List(ctx, auth.Principal{Name: "x", Role: r}, audit.Query{}); fault.KindOf(err) != fault.Forbidden {
			t.Errorf("%s reading the record: %v, want forbidden", r, err)
		}
	}
}
