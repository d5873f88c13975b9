package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestQueryFilters(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	create := func(deadline time.Duration) Finding {
		t.Helper()
		fl := flag()
		fl.ObservedAt = time.Now().Add(-time.Minute).UTC()
		fl.Deadline = fl.ObservedAt.Add(deadline)
		f, err := s.Create(ctx, fl)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	due := create(time.Hour)
	later := create(48 * time.Hour)
	withdrawn := create(time.Hour)
	if _, err := s.Withdraw(ctx, withdrawn.ID, "duty", "wrong camera"); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	inTwoHours := time.Now().Add(2 * time.Hour)
	cases := []struct {
		name   string
		filter Filter
		want   []string
	}{
		{"everything", Filter{}, []string{withdrawn.ID, later.ID, due.ID}},
		{"by status", Filter{Statuses: []string{"open"}}, []string{later.ID, due.ID}},
		{"by statuses", Filter{Statuses: []string{"withdrawn", "rectified"}}, []string{withdrawn.ID}},
		{"overdue in two hours", Filter{Overdue: &yes, Now: inTwoHours}, []string{due.ID}},
		{"not overdue in two hours", Filter{Overdue: &no, Now: inTwoHours}, []string{withdrawn.ID, later.ID}},
		{"nothing overdue now", Filter{Overdue: &yes}, nil},
		{"since later", Filter{Since: time.Now().Add(time.Hour)}, nil},
		{"limit", Filter{Limit: 1}, []string{withdrawn.ID}},
	}
	for _, c := range cases {
		fs, err := s.Query(ctx, c.filter)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, f := range fs {
			got = append(got, f.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := s.Query(ctx, Filter{Statuses: []string{"fixed"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an unknown status: %v", err)
	}
}

func TestRetryFailedAndChangedIDs(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	f, err := s.Create(ctx, flag())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RetryFailed(ctx, f.ID); !errors.Is(err, ErrNothingFailing) {
		t.Fatalf("nothing failed yet: %v", err)
	}
	if _, err := s.RetryFailed(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown finding: %v", err)
	}
	entries, _ := s.Outbox(ctx, 0)
	if err := s.MarkFailed(ctx, entries[0].Seq, "relay answered 404 unknown_site"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, f.ID)
	if got.Forward.State != ForwardFailing || got.Forward.Retrying {
		t.Fatalf("refused for good: %+v", got.Forward)
	}
	// Drain the commit's signal: the retry must give its own.
	select {
	case <-s.Queued():
	default:
	}
	if n, err := s.RetryFailed(ctx, f.ID); err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	select {
	case <-s.Queued():
	default:
		t.Fatal("the retry did not wake the forwarder")
	}
	again, _ := s.Outbox(ctx, 0)
	if len(again) != 1 || again[0].Seq != entries[0].Seq || again[0].Attempts != 1 || again[0].LastError != "" || !again[0].NextAttempt.IsZero() {
		t.Fatalf("outbox after the retry: %+v", again)
	}
	if got, _ := s.Get(ctx, f.ID); got.Forward.State != ForwardLocal || got.Forward.Error != "" {
		t.Fatalf("after the retry: %+v", got.Forward)
	}

	// The findings a batch of the relay's changes changed, each once.
	if err := s.MarkSent(ctx, entries[0].Seq); err != nil {
		t.Fatal(err)
	}
	ch := func(cursor int64, id, status, action string) RelayChange {
		return RelayChange{Cursor: cursor, FindingID: id, Status: status,
			Event: RelayEvent{At: time.Now(), Actor: "mgr", Role: "site_manager", Action: action, Detail: json.RawMessage(`{}`)}}
	}
	ids, err := s.ApplyRelayChangesIDs(ctx, "http://relay", 3, []RelayChange{
		ch(1, f.ID, "acknowledged", "acknowledge"), ch(2, "someone-elses", "open", "created"), ch(3, f.ID, "rectified", "rectify"),
	})
	if err != nil || !slices.Equal(ids, []string{f.ID}) {
		t.Fatalf("changed %v, %v", ids, err)
	}
	if ids, err := s.ApplyRelayChangesIDs(ctx, "http://relay", 3, []RelayChange{ch(3, f.ID, "rectified", "rectify")}); err != nil || len(ids) != 0 {
		t.Fatalf("the same change again changed %v, %v", ids, err)
	}
}
