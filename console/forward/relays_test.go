package forward

import (
	"context"
	"database/sql"
	"testing"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// TestEachRelayIsSentItsOwnFindings: a finding flagged before any sign-in
// goes to the first relay forwarded to and stays bound to it; one flagged
// under relay A is not sent to B, whose forwarder runs, but waits for A
// and goes there once a forwarder runs for A.
func TestEachRelayIsSentItsOwnFindings(t *testing.T) {
	ctx := context.Background()
	relayA, relayB := relaytest.Start(t, relaytest.Options{}), relaytest.Start(t, relaytest.Options{})
	a, b := asDuty(t, relayA), asDuty(t, relayB)
	st := openStore(t)
	flagged := func(seed int, relay string) store.Finding {
		t.Helper()
		fl := flagOf(t, seed, false)
		fl.Relay = relay
		f, err := st.Create(ctx, fl)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	get := func(id string) store.Finding {
		t.Helper()
		f, err := st.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	dbs := map[*relaytest.Relay]*sql.DB{relayA: relayA.DB(t), relayB: relayB.DB(t)}
	at := func(tr *relaytest.Relay, id string) int {
		return count(t, dbs[tr], `SELECT count(*) FROM findings WHERE id = ?`, id)
	}

	unbound := flagged(1, "")
	if unbound.Relay != "" || unbound.Forward.WaitingFor != "" {
		t.Fatalf("flagged before any sign-in: %+v", unbound)
	}
	runForwarder(t, st, b, Options{})
	// Its snapshot follows the finding: it is forwarded once both are there.
	eventually.True(t, eventually.Ceiling, "the unbound finding forwarded", func() bool { return get(unbound.ID).Forward.State == store.ForwardForwarded })
	if f := get(unbound.ID); f.Relay != b.BaseURL() || at(relayB, unbound.ID) != 1 {
		t.Fatalf("after B's forwarder: bound to %q, %d at B", f.Relay, at(relayB, unbound.ID))
	}

	ofA := flagged(2, a.BaseURL())
	ofB := flagged(3, b.BaseURL())
	eventually.True(t, eventually.Ceiling, "B's finding at B", func() bool { return at(relayB, ofB.ID) == 1 })
	if n := at(relayB, ofA.ID); n != 0 {
		t.Fatalf("A's finding reached B")
	}
	if f := get(ofA.ID); f.Forward.State != store.ForwardLocal || f.Forward.WaitingFor != a.BaseURL() {
		t.Fatalf("A's finding while only B is forwarded to: %+v", f.Forward)
	}

	runForwarder(t, st, a, Options{})
	eventually.True(t, eventually.Ceiling, "A's finding at A", func() bool { return at(relayA, ofA.ID) == 1 })
	eventually.True(t, eventually.Ceiling, "the outbox empty", func() bool { return pending(t, st) == 0 })
	if f := get(ofA.ID); f.Forward.State != store.ForwardForwarded || f.Forward.WaitingFor != "" {
		t.Fatalf("A's finding after A's forwarder: %+v", f.Forward)
	}
	for _, c := range []struct {
		tr   *relaytest.Relay
		want int
	}{{relayA, 1}, {relayB, 2}} {
		if n := count(t, dbs[c.tr], `SELECT count(*) FROM findings`); n != c.want {
			t.Fatalf("%s has %d findings, want %d", c.tr.URL(), n, c.want)
		}
	}
}
