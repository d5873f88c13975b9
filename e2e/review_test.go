package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	_ "github.com/mattn/go-sqlite3"

	"github.com/qianliyan/qianliyan/console"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/seed"
)

// seededRoom is a relay started on relay/seed's record of a duty room:
// months of findings over 119 sites, with its clock held at the record's
// end so that what is overdue stays what the test counts.
type seededRoom struct {
	sum   seed.Summary
	relay *relay.Relay
	now   time.Time
	db    *sql.DB // the relay's database, read only
}

// column is the first column of what query finds in the room's record.
func (s *seededRoom) column(t *testing.T, query string, args ...any) []string {
	t.Helper()
	rows, err := s.db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func startSeededRoom(t testing.TB, ctx context.Context, findings int) *seededRoom {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Minute)
	sum, err := seed.Write(ctx, t.TempDir(), seed.Options{Sites: 119, Findings: findings, Days: 90, Seed: 1, Now: now})
	if err != nil {
		t.Fatalf("seeding: %v", err)
	}
	return openSeededRoom(t, ctx, sum)
}

// openSeededRoom starts a relay on a record seeded before (sum), at the
// time the record ends.
func openSeededRoom(t testing.TB, ctx context.Context, sum seed.Summary) *seededRoom {
	t.Helper()
	now := sum.Now
	r, err := relay.Start(ctx, relay.Options{ConfigFile: sum.Config, Listen: "127.0.0.1:0", Log: testLogger(t), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("starting the relay on the seed: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(sum.DataDir, "relay.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &seededRoom{sum: sum, relay: r, now: now, db: db}
}

// openWorkspace serves a console signed in as the seed's supervisor and
// opens its view in Chromium, once the review list has its first page.
func openWorkspace(t testing.TB, ctx context.Context, room *seededRoom) (context.Context, string) {
	t.Helper()
	_, pageURL := serveConsole(t, ctx, console.Options{RelayURL: room.relay.URL(), User: seed.SupervisorName, Password: seed.SupervisorPassword,
		DataDir: t.TempDir(), Log: testLogger(t)})
	b := newBrowser(t, ctx)
	if err := chromedp.Do(b, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS(`[data-workspace][data-tab="review"] [data-review-list] tbody tr`))); err != nil {
		t.Fatalf("the supervisor's first screen: %v", err)
	}
	return b, pageURL
}

// listState is what the review list shows.
type listState struct {
	Hash     string `json:"hash"`
	Total    string `json:"total"`
	Loading  string `json:"loading"`
	Rows     int    `json:"rows"`
	First    string `json:"first"`
	Reviewed string `json:"reviewed"`
}

const listJS = `(() => {
  const l = document.querySelector('[data-review-list]');
  const first = document.querySelector('[data-review-list] tbody tr');
  return { hash: location.hash, total: l ? l.dataset.total : '', loading: l ? l.dataset.loading : '',
    rows: document.querySelectorAll('[data-review-list] tbody tr').length,
    first: first ? first.dataset.findingId : '', reviewed: first ? first.dataset.reviewed : '' };
})()`

func readList(t testing.TB, b context.Context) listState {
	t.Helper()
	s, err := chromedp.Run(b, chromedp.Evaluate[listState](listJS))
	if err != nil {
		t.Fatalf("reading the review list: %v", err)
	}
	return s
}

// choose picks a value in a select of the view as a click would (its
// change event).
func choose(t testing.TB, b context.Context, selector, value string) {
	t.Helper()
	sel, _ := json.Marshal(selector)
	v, _ := json.Marshal(value)
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%s); if (!el) return false; el.value = %s; if (el.value !== %s) return false; el.dispatchEvent(new Event('change', { bubbles: true })); return true })()`, sel, v, v)
	// The choices may come after the select (the relay's facets).
	waitFor(t, fmt.Sprintf("%q chosen in %s", value, selector), time.Minute, func() (bool, string) {
		ok, err := chromedp.Run(b, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatal(err)
		}
		offered, _ := chromedp.Run(b, chromedp.Evaluate[[]string](fmt.Sprintf(`[...(document.querySelector(%s)?.options ?? [])].map((o) => o.value)`, sel)))
		return ok, fmt.Sprintf("not offered among %q", offered)
	})
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestReviewWorkspace is issue 13's browser test of the review: on a
// seeded relay (10,000 findings over 90 days at 119 sites) a supervisor
// signs in and lands in the workspace; filters by a district and overdue
// in the filter bar, and the list's total is the SQL count of the seeded
// database for the same filter; opens a finding with the keys, plays its
// clip (the frame counter advances), marks it reviewed (R) and records an
// outcome with a document number; after a reload the address brings the
// same filter back, and the finding keeps both, at the relay too.
func TestReviewWorkspace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	room := startSeededRoom(t, ctx, 10000)
	all := count(t, room.db, `SELECT count(*) FROM findings`)
	if all != 10000 || count(t, room.db, `SELECT count(*) FROM sites`) != 119 {
		t.Fatalf("the seed has %d findings", all)
	}
	// The district with the most overdue findings, counted apart from the
	// relay's filter: not closed, past the deadline at the relay's now.
	const overdueSQL = `FROM findings f JOIN sites s ON s.id = f.site_id
		WHERE f.status NOT IN ('verified', 'withdrawn') AND f.deadline < ?`
	var district string
	if err := room.db.QueryRow(`SELECT s.district_zh `+overdueSQL+` GROUP BY s.district_zh ORDER BY count(*) DESC LIMIT 1`,
		sqlitedb.FormatTime(room.now)).Scan(&district); err != nil {
		t.Fatal(err)
	}
	want := count(t, room.db, `SELECT count(*) `+overdueSQL+` AND s.district_zh = ?`, sqlitedb.FormatTime(room.now), district)
	if want == 0 || want == all {
		t.Fatalf("%d overdue in %s: not a test of the filter", want, district)
	}

	b, _ := openWorkspace(t, ctx, room)
	waitFor(t, "the whole record listed", time.Minute, func() (bool, string) {
		s := readList(t, b)
		return s.Total == strconv.Itoa(all) && s.Rows == 50, fmt.Sprintf("%+v", s)
	})
	// The header names a supervisor as one, not as the officer on duty.
	if who := eval[string](t, b, `document.querySelector('header .user')?.textContent ?? ''`); !strings.Contains(who, seed.SupervisorName) || !(strings.Contains(who, "督导") || strings.Contains(who, "Supervisor")) {
		t.Errorf("the header says %q for the supervisor %s", who, seed.SupervisorName)
	}

	choose(t, b, `[data-filter="district"]`, district)
	waitFor(t, "the district in the address", time.Minute, func() (bool, string) {
		s := readList(t, b)
		return strings.Contains(s.Hash, "district=") && s.Loading == "false", fmt.Sprintf("%+v", s)
	})
	choose(t, b, `[data-filter="overdue"]`, "1")
	var listed listState
	waitFor(t, "the district's overdue findings listed", time.Minute, func() (bool, string) {
		listed = readList(t, b)
		return strings.Contains(listed.Hash, "overdue=1") && listed.Loading == "false" && listed.Total == strconv.Itoa(want), fmt.Sprintf("%+v, want total %d", listed, want)
	})
	hash := listed.Hash

	// The keys: the list takes them once the filter bar lets go.
	id := listed.First
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`[data-review-list] tbody tr:first-child td.time`)), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`[data-overlay="review-finding"] [data-clip-player]`))); err != nil {
		t.Fatalf("opening the first finding: %v", err)
	}
	frame := func() int {
		n, err := chromedp.Run(b, chromedp.Evaluate[int](`Number(document.querySelector('[data-overlay="review-finding"] [data-clip-player]')?.dataset.clipFrame ?? -1)`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, "the clip's first frame", time.Minute, func() (bool, string) { f := frame(); return f >= 0, strconv.Itoa(f) })
	first := frame()
	if err := chromedp.Do(b, chromedp.KeyEvent(" ")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the clip playing on", time.Minute, func() (bool, string) { f := frame(); return f > first+3, fmt.Sprintf("frame %d from %d", f, first) })

	doc := "沪卫监〔2026〕0042号"
	if err := chromedp.Do(b, chromedp.KeyEvent("r"), chromedp.WaitVisible(chromedp.CSS(`[data-review-record] p[data-reviewed="true"]`))); err != nil {
		t.Fatalf("marking reviewed with R: %v", err)
	}
	choose(t, b, `[data-field="outcome-kind"]`, "suspend_order")
	// O goes to the document number. (DevTools sends the key's character
	// apart from its keydown, so the field gets an o a person's key would
	// not give it: cleared first.)
	if err := chromedp.Do(b, chromedp.KeyEvent("o")); err != nil {
		t.Fatal(err)
	}
	if field, err := chromedp.Run(b, chromedp.Evaluate[string](`document.activeElement?.dataset.field ?? ''`)); err != nil || field != "doc-number" {
		t.Fatalf("O went to %q, %v; want the document number", field, err)
	}
	if _, err := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector('[data-field="doc-number"]').value = ''`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b, chromedp.SendKeys(chromedp.CSS(`[data-field="doc-number"]`), doc),
		chromedp.Click(chromedp.CSS(`[data-action="outcome-add"]`))); err != nil {
		t.Fatalf("recording the outcome: %v", err)
	}
	waitFor(t, "the outcome recorded", time.Minute, func() (bool, string) {
		seen, err := chromedp.Run(b, chromedp.Evaluate[[]string](`[document.querySelector('[data-field="doc-number"]')?.value ?? '',
			...[...document.querySelectorAll('[data-outcomes] li')].map((li) => li.dataset.kind + ' ' + li.dataset.doc),
			document.querySelector('[data-review-detail-error]')?.textContent ?? '', document.querySelector('[data-outcome-form] .problem')?.textContent ?? '']`))
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(seen, "suspend_order "+doc), fmt.Sprintf("%q", seen)
	})
	if n := count(t, room.db, `SELECT count(*) FROM review_marks WHERE finding_id = ? AND reviewed_by = ?`, id, seed.SupervisorName); n != 1 {
		t.Fatalf("the relay's review mark of %s: %d rows", id, n)
	}
	if n := count(t, room.db, `SELECT count(*) FROM review_outcomes WHERE finding_id = ? AND kind = 'suspend_order' AND doc_number = ?`, id, doc); n != 1 {
		t.Fatalf("the relay's outcome of %s: %d rows", id, n)
	}

	if err := chromedp.Do(b, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-review-list] tbody tr`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the same filter after the reload", time.Minute, func() (bool, string) {
		s := readList(t, b)
		return s.Hash == hash && s.Loading == "false" && s.Total == strconv.Itoa(want) && s.First == id && s.Reviewed == "true", fmt.Sprintf("%+v", s)
	})
	row := fmt.Sprintf(`[data-review-list] tr[data-finding-id=%q] button.open`, id)
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.CSS(`[data-overlay="review-finding"] [data-review-record] p[data-reviewed="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-overlay="review-finding"] [data-outcomes] li[data-doc=%q]`, doc))),
		chromedp.WaitVisible(chromedp.CSS(`[data-overlay="review-finding"] [data-history] li[data-action="outcome"]`))); err != nil {
		t.Fatalf("the finding after the reload: %v", err)
	}
}

// BenchmarkReviewFirstPage times the review list's first page in
// Chromium on the seeded relay (10,000 findings, 119 sites): from a new
// filter in the address until its 50 rows are on screen (the next frame
// drawn after them), through the console backend and the relay, as a
// supervisor changing a filter waits for it. Filters cycle so that each is
// a new query. Issue 13 asks ≤ 300 ms; docs/PERFORMANCE.md has the numbers.
// QLY_BENCH_SEED names a record `bench seed` wrote (the 1M findings the
// issue sets the goal at) to time instead of a new one of 10,000.
func BenchmarkReviewFirstPage(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	var room *seededRoom
	if dir := os.Getenv("QLY_BENCH_SEED"); dir != "" {
		sum, err := seed.ReadSummary(dir)
		if err != nil {
			b.Fatal(err)
		}
		room = openSeededRoom(b, ctx, sum)
		b.Logf("the record in %s: %d findings", dir, sum.Findings)
	} else {
		room = startSeededRoom(b, ctx, 10000)
	}
	page, _ := openWorkspace(b, ctx, room)
	filters := []string{"overdue=1", "severity=critical", "status=open,reopened", "reviewed=0&sort=deadline", "site_type=hotel&overdue=0", "outcome=none&sort=site", "repeat=30", ""}
	const timeJS = `(async (q) => {
  const t0 = performance.now();
  location.hash = q ? '#/review?' + q : '#/review';
  await new Promise((done) => {
    const check = () => {
      const r = document.querySelector('[data-review]'), l = document.querySelector('[data-review-list]');
      if (r && l && r.dataset.query === q && l.dataset.loading === 'false' && l.querySelector('tbody tr')) requestAnimationFrame(() => done());
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
  return performance.now() - t0;
})(%s)`
	var ms []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q, _ := json.Marshal(filters[i%len(filters)])
		took, err := chromedp.Run(page, chromedp.Evaluate[float64](fmt.Sprintf(timeJS, q), chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		ms = append(ms, took)
		if testing.Verbose() {
			b.Logf("%q: %.0f ms", filters[i%len(filters)], took)
		}
	}
	b.StopTimer()
	percentiles(b, "first-page", ms)
}
