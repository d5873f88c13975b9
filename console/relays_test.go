package console

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// TestFindingsGoOnlyToTheRelayTheyWereFlaggedUnder: an officer flags
// under city A's relay, which goes down, and signs in to relay B (a
// training relay, a neighbouring city's, with a site-01 of its own).
// Nothing of A's reaches B, and A's findings are not failed there but say
// they wait for A; B's own go to B. Back on A, A's backlog drains, each
// finding once, and nothing of B's follows it.
func TestFindingsGoOnlyToTheRelayTheyWereFlaggedUnder(t *testing.T) {
	ctx := context.Background()
	opts := options(t, nil)
	a, b := relaytest.Start(t, relaytest.Options{}), relaytest.Start(t, relaytest.Options{})
	credsA, credsB := a.Demo(), b.Demo()
	c, v := signedIn(t, opts, a)

	// As the findings API flags: under the relay of the session.
	flag := func(text, relayURL string) string {
		at := time.Now().Add(-time.Minute)
		f, err := c.store.Create(ctx, store.Flag{Site: "site-01", Camera: "doff1", Zone: "doffing_room_1",
			DeviationText: text, Severity: "minor", Observer: credsA.User, ObservedAt: at, Deadline: at.Add(time.Hour),
			Relay: relayURL})
		if err != nil {
			t.Fatal(err)
		}
		return f.ID
	}
	forward := func(id string) store.Forward {
		var f store.Finding
		if status, raw := v.call(http.MethodGet, "/api/v1/findings/"+id, nil, &f); status != http.StatusOK || f.Forward == nil {
			t.Fatalf("GET finding: %d %s", status, raw)
		}
		return *f.Forward
	}
	signIn := func(r *relaytest.Relay, creds relay.DemoCredentials) {
		t.Helper()
		if status, raw := v.call(http.MethodPost, "/api/v1/session",
			map[string]string{"relay": r.URL(), "user": creds.User, "password": creds.Password}, nil); status != http.StatusOK {
			t.Fatalf("signing in to %s: %d %s", r.URL(), status, raw)
		}
	}

	sent := flag("A, sent at once", a.URL())
	eventually.True(t, within, "A's first finding forwarded", func() bool { return forward(sent).State == store.ForwardForwarded })

	// A goes down with two findings on their way to it.
	a.Stop(t)
	backlog := []string{flag("A, backlog 1", a.URL()), flag("A, backlog 2", a.URL())}
	// While A is down the forwarder probes it with the oldest finding only.
	eventually.True(t, within, "an attempt at the unreachable A", func() bool { return forward(backlog[0]).Retrying })

	signIn(b, credsB)
	own := flag("B's own", b.URL())
	eventually.True(t, within, "B's own finding forwarded to B", func() bool { return forward(own).State == store.ForwardForwarded })
	// A's backlog was queued before B's finding: had the forwarder taken
	// it for B, it would be there by now.
	dbB := b.DB(t)
	if ids := relayFindings(t, dbB); len(ids) != 1 || ids[0] != own {
		t.Fatalf("B's findings: %v, want only %s", ids, own)
	}
	for _, id := range backlog {
		if f := forward(id); f.State != store.ForwardLocal || f.WaitingFor != a.URL() || f.Retrying || f.Error != "" {
			t.Fatalf("A's finding %s while signed in to B: %+v, want local waiting for %s", id, f, a.URL())
		}
	}
	if f := forward(own); f.WaitingFor != "" {
		t.Fatalf("B's finding on B: %+v", f)
	}
	entries, err := c.store.Outbox(ctx, 0)
	if err != nil || len(entries) != len(backlog) {
		t.Fatalf("outbox while on B: %+v %v, want A's %d entries", entries, err, len(backlog))
	}
	attempts := map[int64]int{}
	for _, e := range entries {
		attempts[e.Seq] = e.Attempts
	}

	// B's finding waits for B while the console is back on A.
	a.Resume(t)
	signIn(a, credsA)
	eventually.True(t, within, "A's backlog forwarded to A", func() bool {
		for _, id := range backlog {
			if forward(id).State != store.ForwardForwarded {
				return false
			}
		}
		return true
	})
	if f := forward(own); f.State != store.ForwardForwarded || f.WaitingFor != "" {
		t.Fatalf("B's finding, delivered, on A: %+v", f)
	}
	later := flag("B, later", b.URL())
	if f := forward(later); f.State != store.ForwardLocal || f.WaitingFor != b.URL() {
		t.Fatalf("a finding of B's flagged while on A: %+v, want waiting for %s", f, b.URL())
	}
	dbA := a.DB(t)
	want := append([]string{sent}, backlog...)
	if ids := relayFindings(t, dbA); strings.Join(ids, " ") != strings.Join(sorted(want), " ") {
		t.Fatalf("A's findings: %v, want %v", ids, sorted(want))
	}
	for _, id := range want {
		var created int
		if err := dbA.QueryRow(`SELECT count(*) FROM finding_events WHERE finding_id = ? AND action = 'created'`, id).Scan(&created); err != nil || created != 1 {
			t.Fatalf("A's finding %s created %d times (%v), want once", id, created, err)
		}
	}
	if ids := relayFindings(t, dbB); len(ids) != 1 {
		t.Fatalf("B's findings after the console went back to A: %v", ids)
	}
	// Nothing was tried at B: the backlog's attempts are those at A.
	// The console's own database says what its API does not.
	consoleDB := readOnlyDB(t, filepath.Join(opts.DataDir, "console.db"))
	for seq, n := range attempts {
		var now int
		if err := consoleDB.QueryRow(`SELECT attempts FROM outbox WHERE seq = ?`, seq).Scan(&now); err != nil || now != n+1 {
			t.Fatalf("outbox entry %d: %d attempts (%v), want the %d at the unreachable A and one delivery", seq, now, err, n)
		}
	}
}

// readOnlyDB opens a SQLite file read-only, to see what is committed.
func readOnlyDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// relayFindings lists the ids of the findings a relay has, in order.
func relayFindings(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT id FROM findings ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func sorted(ids []string) []string {
	out := append([]string(nil), ids...)
	slices.Sort(out)
	return out
}
