package findings_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/fault"
)

func TestRecheckAndForwardState(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{})
	f := r.Create(t, "漏做手卫生", 48*time.Hour)
	get := func() store.Finding {
		t.Helper()
		got, err := r.Findings.Get(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Finding
	}
	if got := get(); got.Forward == nil || got.Forward.State != store.ForwardLocal {
		t.Fatalf("forward state of a new finding: %+v", got.Forward)
	}
	if list, err := r.Findings.List(ctx, findings.Query{}); err != nil || len(list) != 1 || list[0].Forward.State != store.ForwardLocal {
		t.Fatalf("forward state in the list: %+v %v", list, err)
	}
	if _, err := r.Findings.Verify(ctx, f.ID, findings.Recheck{Note: "fine"}); !errors.Is(err, store.ErrTransition) {
		t.Fatalf("verifying an open finding: %v", err)
	}

	// Forwarded, and reported rectified by the site.
	r.Rectified(t, f, 7)
	if got := get(); got.Forward.State != store.ForwardForwarded || got.Status != "rectified" || got.StatusNote != "done" {
		t.Fatalf("after the site's rectification: %s %q %+v", got.Status, got.StatusNote, got.Forward)
	}

	past, notATime, later := "2020-01-01T00:00:00Z", "tomorrow", "2030-01-01T00:00:00Z"
	for _, c := range []struct {
		name    string
		recheck func(context.Context, string, findings.Recheck) (store.Finding, error)
		in      findings.Recheck
		field   string
	}{
		{"no note", r.Findings.Verify, findings.Recheck{Note: " "}, "note"},
		{"verify with a deadline", r.Findings.Verify, findings.Recheck{Note: "x", Deadline: &later}, "deadline"},
		{"deadline in the past", r.Findings.Reopen, findings.Recheck{Note: "x", Deadline: &past}, "deadline"},
		{"deadline not a time", r.Findings.Reopen, findings.Recheck{Note: "x", Deadline: &notATime}, "deadline"},
	} {
		_, err := c.recheck(ctx, f.ID, c.in)
		refusal{fault.Invalid, "invalid_field", c.field}.check(t, c.name, err)
	}
	if _, err := r.Findings.Verify(ctx, "nope", findings.Recheck{Note: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown finding: %v", err)
	}

	before := time.Now()
	reopened, err := r.Findings.Reopen(ctx, f.ID, findings.Recheck{Note: "still no hand hygiene"})
	if err != nil {
		t.Fatal(err)
	}
	// Without a deadline the site gets as long again as it first had.
	if reopened.Status != "reopened" || reopened.Deadline.Before(before.Add(47*time.Hour)) || reopened.Forward.State != store.ForwardLocal {
		t.Fatalf("reopened: %s %v %+v", reopened.Status, reopened.Deadline, reopened.Forward)
	}
	if _, err := r.Findings.Verify(ctx, f.ID, findings.Recheck{Note: "x"}); !errors.Is(err, store.ErrTransition) {
		t.Fatalf("verifying a reopened finding: %v", err)
	}
}

// The re-check queue and the overdue ones are listed whatever their age;
// the plain list stays the last day.
func TestListFiltersByStatusAndOverdue(t *testing.T) {
	later := time.Now().Add(72 * time.Hour) // every finding is three days old
	r := findingstest.New(t, findingstest.Options{Now: func() time.Time { return later }})
	rectified := r.Create(t, "rectified", 96*time.Hour) // not yet due three days on
	open := r.Create(t, "open", time.Hour)
	withdrawn := r.Create(t, "withdrawn", time.Hour)
	at := open.ObservedAt
	if _, err := r.Store.Withdraw(ctx, withdrawn.ID, "duty", "wrong camera"); err != nil {
		t.Fatal(err)
	}
	r.Rectified(t, rectified, 3)

	yes, no := true, false
	cases := []struct {
		name string
		q    findings.Query
		want []string
	}{
		{"the last day", findings.Query{}, nil},
		{"rectified", findings.Query{Statuses: []string{"rectified"}}, []string{rectified.ID}},
		{"rectified or open", findings.Query{Statuses: []string{"rectified", "open"}}, []string{open.ID, rectified.ID}},
		{"overdue", findings.Query{Overdue: &yes}, []string{open.ID}},
		{"overdue and rectified", findings.Query{Overdue: &yes, Statuses: []string{"rectified"}}, nil},
		{"not overdue", findings.Query{Overdue: &no}, []string{withdrawn.ID, rectified.ID}},
		{"withdrawn in the last hour", findings.Query{Statuses: []string{"withdrawn"}, Since: later.Add(-time.Hour)}, nil},
		{"since before them", findings.Query{Since: at.Add(-time.Hour)}, []string{withdrawn.ID, open.ID, rectified.ID}},
	}
	for _, c := range cases {
		list, err := r.Findings.List(ctx, c.q)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var got []string
		for _, f := range list {
			got = append(got, f.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	_, err := r.Findings.List(ctx, findings.Query{Statuses: []string{"rectified", "fixed"}})
	refusal{fault.Invalid, "invalid_field", "status"}.check(t, "unknown status", err)
	if !strings.Contains(fault.As(err).Message, `"fixed"`) {
		t.Errorf("unknown status: %v does not name it", err)
	}
}

func TestRetryPutsRefusedChangesBack(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{})
	f := r.Create(t, "漏做手卫生", 48*time.Hour)
	if _, err := r.Findings.Retry(ctx, f.ID); !errors.Is(err, store.ErrNothingFailing) {
		t.Fatalf("retrying a finding nothing failed of: %v", err)
	}
	if _, err := r.Findings.Retry(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retrying an unknown finding: %v", err)
	}
	entries, _ := r.Store.Outbox(ctx, 0)
	if len(entries) != 1 {
		t.Fatalf("%d outbox entries", len(entries))
	}
	if err := r.Store.MarkFailed(ctx, entries[0].Seq, "relay answered 404 unknown_site: site-01"); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Findings.Get(ctx, f.ID); err != nil || got.Forward.State != store.ForwardFailing {
		t.Fatalf("failed: %+v %v", got.Forward, err)
	}
	select {
	case <-r.Store.Queued(): // drain the signal of the failure's commit
	default:
	}
	if got, err := r.Findings.Retry(ctx, f.ID); err != nil || got.Forward.State != store.ForwardLocal {
		t.Fatalf("retry: %+v %v", got.Forward, err)
	}
	select {
	case <-r.Store.Queued():
	case <-time.After(5 * time.Second):
		t.Fatal("the retry did not wake the forwarder")
	}
	if entries, _ := r.Store.Outbox(ctx, 0); len(entries) != 1 {
		t.Fatalf("outbox after the retry: %+v", entries)
	}
}
