package notices_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/audit"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/notices"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/runs"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// failing is the review's outcomes, refused while down is set: the
// database busy, the disk full, the relay stopped midway.
type failing struct {
	*review.Store
	down atomic.Bool
}

func (f *failing) AddOutcome(ctx context.Context, by auth.Principal, id string, o wire.Outcome) error {
	if f.down.Load() {
		return errors.New("outcomes unavailable")
	}
	return f.Store.AddOutcome(ctx, by, id, o)
}

// A notice whose outcomes could not be recorded when it was issued is
// issued all the same, and Resume (run at start) records them then, once;
// the audit's record too.
func TestResumeRecordsWhatIssuingLeft(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.OpenDatabase(ctx, filepath.Join(dir, "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := store.New(db)
	if err := st.PutSite(ctx, store.Site{ID: "s1", District: bilingual.New("东城区", "Dongcheng"), Name: bilingual.New("东湖宾馆", "Donghu Hotel"),
		TimeZone: "Asia/Shanghai", Kind: "hotel"}, nil); err != nil {
		t.Fatal(err)
	}
	finds, err := findings.New(findings.Config{DB: db, Sites: st, EvidenceDir: filepath.Join(dir, "evidence")})
	if err != nil {
		t.Fatal(err)
	}
	duty := auth.Principal{Name: "duty", Role: auth.RoleDuty}
	sup := auth.Principal{Name: "sup", Role: auth.RoleSupervisor}
	now := time.Now()
	for _, id := range []string{"f1", "f2"} {
		if _, _, err := finds.Create(ctx, duty, wire.Draft{ID: id, Site: "s1", Camera: "c1", Zone: "z", DeviationText: "未戴口罩 " + id,
			Severity: "major", ObservedAt: now.Add(-time.Hour), FlaggedAt: now, Deadline: now.Add(24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	rv, err := review.New(review.Config{DB: db, Findings: finds, Runs: runs.New(db)})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := &failing{Store: rv}
	outcomes.down.Store(true)
	audits := audit.New(db, nil)
	ns := notices.New(notices.Config{DB: db, Findings: finds, Sites: st, Outcomes: outcomes, Audit: audits,
		Log: zerolog.New(zerolog.NewTestWriter(t))})

	n, err := ns.Issue(ctx, sup, wire.NoticeRequest{Site: "s1"})
	if err != nil {
		t.Fatalf("issuing while the outcomes are down: %v", err)
	}
	if n.Total != 2 || n.Seq != 1 {
		t.Fatalf("the notice: %+v", n)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var c int
		if err := db.QueryRow(q, args...).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := count(`SELECT count(*) FROM review_outcomes WHERE doc_number = ?`, n.Number); c != 0 {
		t.Fatalf("%d outcomes recorded while down", c)
	}
	if c := count(`SELECT count(*) FROM notices WHERE recorded = 0`); c != 1 {
		t.Fatalf("%d notices left to record, want 1", c)
	}

	outcomes.down.Store(false)
	for range 2 { // twice: the second finds nothing left
		if err := ns.Resume(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if c := count(`SELECT count(*) FROM review_outcomes WHERE kind = 'notice_issued' AND doc_number = ?`, n.Number); c != 2 {
		t.Errorf("%d outcomes after Resume, want 2", c)
	}
	if c := count(`SELECT count(*) FROM audit_exports WHERE what = 'notice' AND actor = 'sup'`); c != 1 {
		t.Errorf("%d audit records of the issue, want 1", c)
	}
	if c := count(`SELECT count(*) FROM notices WHERE recorded = 0`); c != 0 {
		t.Errorf("%d notices still to record", c)
	}
	f, err := finds.Get(ctx, sup, "f1")
	if err != nil {
		t.Fatal(err)
	}
	var outcomeEvents int
	for _, e := range f.Events {
		if e.Action == wire.EventOutcome && e.Actor == "sup" {
			outcomeEvents++
		}
	}
	if outcomeEvents != 1 {
		t.Errorf("finding f1's history has %d outcome events by sup, want 1", outcomeEvents)
	}
}
