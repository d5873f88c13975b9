package forward

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// changeLog records what OnChange is told.
type changeLog struct {
	mu  sync.Mutex
	ids []string
}

func (l *changeLog) add(ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = append(l.ids, ids...)
}

func (l *changeLog) has(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.ids, id)
}

func (l *changeLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = nil
}

// A site the relay does not know refuses the finding for good; once the
// relay is configured with it, a retry delivers the finding and its clip,
// and every change of forward state is told.
func TestRetryAfterTheRelayLearnsTheSite(t *testing.T) {
	ctx := context.Background()
	tr := relaytest.Start(t, relaytest.Options{})
	duty := asDuty(t, tr)
	st := openStore(t)
	var told changeLog
	runForwarder(t, st, duty, Options{OnChange: told.add})

	fl := flagOf(t, 1, true)
	fl.Site = "site-99"
	f, err := st.Create(ctx, fl)
	if err != nil {
		t.Fatal(err)
	}
	finishClip(t, st, f)
	eventually.True(t, eventually.Ceiling, "the finding failing", func() bool {
		got, _ := st.Get(ctx, f.ID)
		return got.Forward.State == store.ForwardFailing && pending(t, st) == 0
	})
	if !told.has(f.ID) {
		t.Fatal("OnChange was not told of the failure")
	}
	got, _ := st.Get(ctx, f.ID)
	if got.Forward.Error == "" {
		t.Fatal("a failing finding without the relay's reason")
	}

	// Nothing of it at the relay, then the relay learns of the site.
	if _, status := finding(t, duty, f.ID); status != http.StatusNotFound {
		t.Fatalf("the relay has the refused finding: %d", status)
	}
	tr.Stop(t)
	site := `sites:
  - id: site-99
    district: {zh-CN: 测试区, en: Test district}
    name: {zh-CN: 新隔离点, en: New site}
    time_zone: Asia/Shanghai
    cameras:
      - id: doff1
        zone: doffing_room_1
        name: {zh-CN: 一脱间, en: Doffing room 1}
`
	tr.SetConfig(t, site)
	tr.Resume(t)

	told.reset()
	n, err := st.RetryFailed(ctx, f.ID)
	if err != nil || n != 2 {
		t.Fatalf("retry: %d %v, want the finding and its clip", n, err)
	}
	if got, _ := st.Get(ctx, f.ID); got.Forward.State != store.ForwardLocal || got.Forward.Error != "" {
		t.Fatalf("forward state once retried: %+v", got.Forward)
	}
	eventually.True(t, eventually.Ceiling, "the retried finding forwarded", func() bool {
		got, _ := st.Get(ctx, f.ID)
		return got.Forward.State == store.ForwardForwarded
	})
	eventually.True(t, eventually.Ceiling, "OnChange told of the delivery", func() bool { return told.has(f.ID) })
	rf, status := finding(t, duty, f.ID)
	if status != http.StatusOK || rf.Evidence.Snapshot == nil || rf.Evidence.Clip == nil {
		t.Fatalf("at the relay: %d %+v", status, rf.Evidence)
	}
	if n := count(t, tr.DB(t), `SELECT count(*) FROM findings WHERE id = ?`, f.ID); n != 1 {
		t.Fatalf("%d copies at the relay", n)
	}

	if _, err := st.RetryFailed(ctx, f.ID); !errors.Is(err, store.ErrNothingFailing) {
		t.Fatalf("retrying a forwarded finding: %v", err)
	}
	if _, err := st.RetryFailed(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retrying an unknown finding: %v", err)
	}
}

// The consumer tells which findings the site's answers changed.
func TestConsumerTellsWhatChanged(t *testing.T) {
	ctx := context.Background()
	tr := relaytest.Start(t, relaytest.Options{})
	duty := asDuty(t, tr)
	mgr := asManager(t, tr)
	st := openStore(t)
	f, err := st.Create(ctx, flagOf(t, 1, false))
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.Create(ctx, flagOf(t, 2, false))
	if err != nil {
		t.Fatal(err)
	}
	runForwarder(t, st, duty, Options{})
	eventually.True(t, eventually.Ceiling, "the flags forwarded", func() bool { return pending(t, st) == 0 })

	var told changeLog
	runConsumerWith(t, ConsumerOptions{Store: st, Relay: duty, Self: duty.User().Name, OnChange: told.add})

	act(t, mgr, f.ID, wire.ActionRequest{ActionID: "ack-1", Action: wire.ActAcknowledge, Note: "seen"})
	eventually.True(t, eventually.Ceiling, "OnChange told of the acknowledgement", func() bool { return told.has(f.ID) })
	if got, _ := st.Get(ctx, f.ID); got.Status != "acknowledged" {
		t.Fatalf("told before the store has it: %s", got.Status)
	}
	if told.has(other.ID) {
		t.Fatal("told of a finding nothing happened to")
	}
}
