package seed_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/testlog"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/seed"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

var now = time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)

func write(t *testing.T, o seed.Options) seed.Summary {
	t.Helper()
	sum, err := seed.Write(context.Background(), t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// The seeded room is a relay: it starts on relay.yaml, its supervisor
// signs in and reads the findings, their history and a clip that is a
// playable fMP4, and the checks (户次) of the runs.
func TestSeededRelayServesTheRecord(t *testing.T) {
	sum := write(t, seed.Options{Sites: 16, Findings: 1500, Days: 30, Seed: 3, Now: now})
	if sum.Sites != 16 || sum.Districts != 12 || sum.Findings != 1500 || sum.Runs == 0 || sum.Events < 3*sum.Findings {
		t.Fatalf("summary %+v", sum)
	}
	var log testlog.Buffer
	r, err := relay.Start(context.Background(), relay.Options{ConfigFile: sum.Config, Listen: "127.0.0.1:0",
		Log: zerolog.New(&log), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("starting the relay on the seed: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	sup := apitest.SignIn(t, r.URL(), seed.SupervisorName, seed.SupervisorPassword)
	apitest.SignIn(t, r.URL(), seed.DutyName, seed.DutyPassword)

	var list struct{ Findings []wire.Finding }
	get(t, sup, "/api/v1/findings", &list)
	if len(list.Findings) != sum.Findings {
		t.Fatalf("the supervisor reads %d findings, the seed wrote %d", len(list.Findings), sum.Findings)
	}
	statuses, overdue, sites := map[wire.Status]int{}, 0, map[string]bool{}
	for _, f := range list.Findings {
		statuses[f.Status]++
		sites[f.Site] = true
		if f.Overdue {
			overdue++
		}
	}
	for _, s := range []wire.Status{wire.StatusOpen, wire.StatusAcknowledged, wire.StatusRectified, wire.StatusVerified, wire.StatusReopened, wire.StatusWithdrawn} {
		if statuses[s] == 0 {
			t.Errorf("no %s finding among %v", s, statuses)
		}
	}
	if overdue == 0 || len(sites) < 12 {
		t.Errorf("%d overdue, findings at %d sites", overdue, len(sites))
	}

	// A verified finding: its history from flagging to the re-check, and
	// its evidence.
	var verified wire.Finding
	for _, f := range list.Findings {
		if f.Status == wire.StatusVerified {
			verified = sup.Finding(f.ID)
			break
		}
	}
	actions := []string{}
	for _, e := range verified.Events {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"created", "evidence", "acknowledge", "rectify", "verify"} {
		if !contains(actions, want) {
			t.Errorf("finding %s's history %v has no %s", verified.ID, actions, want)
		}
	}
	ev := verified.Evidence
	if ev.Snapshot == nil || ev.Clip == nil || len(ev.Photos) == 0 || len(ev.Rechecks) == 0 {
		t.Fatalf("finding %s's evidence %+v", verified.ID, ev)
	}
	status, clip := sup.Do("GET", ev.Clip.URL, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", ev.Clip.URL, status, clip)
	}
	if d := sha256.Sum256(clip); hex.EncodeToString(d[:]) != sum.Clip {
		t.Errorf("the clip served is not the one seeded")
	}
	frames := fmp4Frames(t, clip)
	if frames < 30 {
		t.Errorf("the clip has %d frames", frames)
	}
	status, _ = sup.Do("GET", ev.Rechecks[0].URL, nil, nil)
	if status != http.StatusOK {
		t.Errorf("GET %s: %d", ev.Rechecks[0].URL, status)
	}

	// The checks of the runs, as the statistics count them.
	var checks wire.CheckStats
	from := now.Add(-31 * 24 * time.Hour).Format(time.RFC3339)
	get(t, sup, "/api/v1/stats/checks?"+url.Values{"from": {from}, "to": {now.Format(time.RFC3339)}}.Encode(), &checks)
	total := 0
	for _, c := range checks.Stats {
		total += c.Checks
		if c.Deviations > c.StepsObserved {
			t.Errorf("%+v", c)
		}
	}
	if total != sum.Runs {
		t.Errorf("the relay counts %d checks, the seed wrote %d runs", total, sum.Runs)
	}

	// A site manager sees their site's findings alone.
	mgr := apitest.SignIn(t, r.URL(), "manager-001", seed.ManagerPassword)
	var mine struct{ Findings []wire.Finding }
	get(t, mgr, "/api/v1/findings", &mine)
	for _, f := range mine.Findings {
		if f.Site != "site-001" {
			t.Fatalf("manager-001 reads a finding of %s", f.Site)
		}
	}
}

// The review's rows are there as relay/review keeps them: the marks,
// comments and outcomes with their events, and the search's index over
// every finding, so the review's filters count them.
func TestReviewRecord(t *testing.T) {
	sum := write(t, seed.Options{Sites: 10, Findings: 2000, Days: 40, Seed: 5, Now: now})
	if sum.Reviewed == 0 || sum.Comments == 0 || sum.Outcomes == 0 {
		t.Fatalf("summary %+v", sum)
	}
	db, err := store.OpenDatabase(context.Background(), filepath.Join(sum.DataDir, "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rv, err := review.New(review.Config{DB: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	count := func(query string) int {
		t.Helper()
		f, err := review.ParseFilter(must(url.ParseQuery(query)), now, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		where, args := rv.Where(f)
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM findings f WHERE `+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var events, reviewedEvents, docs, cursor, last int
	for q, v := range map[string]*int{
		`SELECT count(*) FROM finding_events`:                           &events,
		`SELECT count(*) FROM finding_events WHERE action = 'reviewed'`: &reviewedEvents,
		`SELECT count(*) FROM review_docs`:                              &docs,
		`SELECT cursor FROM review_index_state`:                         &cursor,
		`SELECT max(id) FROM finding_events`:                            &last,
	} {
		if err := db.QueryRow(q).Scan(v); err != nil {
			t.Fatal(err)
		}
	}
	if events != sum.Events || reviewedEvents != sum.Reviewed {
		t.Errorf("%d events (%d reviewed), the summary says %d (%d)", events, reviewedEvents, sum.Events, sum.Reviewed)
	}
	if docs != sum.Findings || cursor != last {
		t.Errorf("the search's index has %d of %d findings, up to event %d of %d", docs, sum.Findings, cursor, last)
	}
	if n := count("reviewed=1"); n != sum.Reviewed {
		t.Errorf("reviewed=1 counts %d, the seed reviewed %d", n, sum.Reviewed)
	}
	if n := count("outcome=any"); n == 0 || n > sum.Outcomes {
		t.Errorf("outcome=any counts %d of %d outcomes", n, sum.Outcomes)
	}
	for _, q := range []string{"q=整改", "q=消毒", "q=隔离点负责人", "repeat=7", "overdue=1&district=朝阳区"} {
		if count(q) == 0 {
			t.Errorf("%s finds nothing", q)
		}
	}
	if e := sum.Events / sum.Findings; e < 5 {
		t.Errorf("%d events a finding, want at least 5", e)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The same seed and time give the same record, row for row.
func TestSameSeedSameRecord(t *testing.T) {
	o := seed.Options{Sites: 8, Findings: 300, Days: 10, Seed: 11, Now: now}
	a, b := write(t, o), write(t, o)
	if da, db := dump(t, a), dump(t, b); da != db {
		t.Fatal("two seeds of the same options differ")
	}
	o.Seed = 12
	if dump(t, write(t, o)) == dump(t, a) {
		t.Fatal("another seed gives the same record")
	}
}

func TestRefusesAnExistingDatabase(t *testing.T) {
	dir := t.TempDir()
	o := seed.Options{Sites: 4, Findings: 10, Days: 2, Now: now}
	if _, err := seed.Write(context.Background(), dir, o); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Write(context.Background(), dir, o); err == nil {
		t.Fatal("a second seed over the first was not refused")
	}
}

func get(t *testing.T, c *apitest.Client, path string, v any) {
	t.Helper()
	status, b := c.Do("GET", path, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// fmp4Frames reads the clip as the view's player does: an init with one
// H.264 track, then fragments; it returns the frames.
func fmp4Frames(t *testing.T, b []byte) int {
	t.Helper()
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(b)); err != nil {
		t.Fatalf("the clip's header: %v", err)
	}
	if len(init.Tracks) != 1 {
		t.Fatalf("the clip has %d tracks", len(init.Tracks))
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(b); err != nil {
		t.Fatalf("the clip's fragments: %v", err)
	}
	n := 0
	for _, p := range parts {
		for _, tr := range p.Tracks {
			n += len(tr.Samples)
		}
	}
	return n
}

// dump is the seeded database's rows, hashed.
func dump(t *testing.T, sum seed.Summary) string {
	t.Helper()
	db, err := store.OpenDatabase(context.Background(), filepath.Join(sum.DataDir, "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := sha256.New()
	for _, q := range []string{
		`SELECT id, site_id, deviation, status, observed_at, deadline, content, updated_at FROM findings ORDER BY id`,
		`SELECT id, finding_id, at, actor, action, detail FROM finding_events ORDER BY id`,
		`SELECT finding_id, kind, position, sha256 FROM finding_evidence ORDER BY 1, 2, 3`,
		`SELECT id, site, template, started_at, ended_at FROM runs ORDER BY id`,
		`SELECT run_id, seq, body FROM run_events ORDER BY 1, 2`,
		`SELECT finding_id, reviewed_by, reviewed_at FROM review_marks ORDER BY 1`,
		`SELECT id, finding_id, text FROM review_comments ORDER BY 1`,
		`SELECT finding_id, kind, doc_number FROM review_outcomes ORDER BY 1, 2, 3`,
		`SELECT id, district_zh, name_zh, kind FROM sites ORDER BY id`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(h, "%q,", v)
			}
			h.Write([]byte{'\n'})
		}
		rows.Close()
	}
	if _, err := os.Stat(sum.Config); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
