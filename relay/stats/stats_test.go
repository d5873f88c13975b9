package stats

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/coverage"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/runs"
	"github.com/qianliyan/qianliyan/relay/shifts"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

var (
	shanghai, _ = time.LoadLocation("Asia/Shanghai")
	// tNow is the relay's now when the statistics are read.
	tNow = time.Date(2026, 12, 2, 20, 30, 0, 0, shanghai)

	supervisor = auth.Principal{Name: "sup", Role: auth.RoleSupervisor}
	duty       = auth.Principal{Name: "duty1", Role: auth.RoleDuty}
	admin      = auth.Principal{Name: "admin", Role: auth.RoleAdmin}
)

// room is a relay's records: sites, findings with their lives, review
// marks, and the stores over them.
type room struct {
	db      *sql.DB
	now     time.Time // the clock every store reads
	st      *store.Store
	finds   *findings.Store
	review  *review.Store
	cov     *coverage.Store
	stats   *Store
	manager auth.Principal
	// What the test knows of each finding, to count by other means than
	// the SQL under test.
	hours    map[string]float64 // flagged to first rectify, of those rectified
	deadline map[string]time.Time
	status   map[string]wire.Status
}

var testSites = []store.Site{
	{ID: "s01", District: bilingual.New("东城区", "Dongcheng"), Name: bilingual.New("一号酒店", "Hotel One"), Kind: "hotel"},
	{ID: "s02", District: bilingual.New("东城区", "Dongcheng"), Name: bilingual.New("二号酒店", "Hotel Two"), Kind: "hotel"},
	{ID: "s03", District: bilingual.New("西城区", "Xicheng"), Name: bilingual.New("方舱三", "Cabin Three"), Kind: "purpose_built"},
	{ID: "s04", District: bilingual.New("西城区", "Xicheng"), Name: bilingual.New("宿舍四", "Dorm Four"), Kind: "dormitory"},
	{ID: "s05", District: bilingual.New("朝阳区", "Chaoyang"), Name: bilingual.New("五号", "Five"), Kind: "other"},
	{ID: "s06", District: bilingual.New("朝阳区", "Chaoyang"), Name: bilingual.New("六号酒店", "Hotel Six"), Kind: "hotel"},
}

// The activities and their deviations the findings are of; "" is free text.
var testDeviations = map[string][]string{
	"ppe-doffing":  {"missed_hand_hygiene", "wrong_order", "short_hand_rub"},
	"disinfection": {"wrong_concentration", "no_record"},
	"":             {""},
}

func open(t *testing.T) *room {
	t.Helper()
	ctx := context.Background()
	db, st := storetest.Open(t)
	r := &room{db: db, st: st, now: tNow, hours: map[string]float64{}, deadline: map[string]time.Time{}, status: map[string]wire.Status{}}
	clock := func() time.Time { return r.now }
	var ids []string
	for _, s := range testSites {
		s.TimeZone = "Asia/Shanghai"
		if err := st.PutSite(ctx, s, []store.Camera{{Site: s.ID, ID: "cam1", Zone: "doffing_room_1", Name: bilingual.New("一号", "One")}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	r.manager = auth.Principal{Name: "mgr", Role: auth.RoleSiteManager, Sites: ids}
	var err error
	if r.finds, err = findings.New(findings.Config{DB: db, Sites: st, EvidenceDir: filepath.Join(t.TempDir(), "evidence"), Now: clock}); err != nil {
		t.Fatal(err)
	}
	if r.review, err = review.New(review.Config{DB: db, Findings: r.finds, Runs: runs.New(db), Now: clock}); err != nil {
		t.Fatal(err)
	}
	sched, err := shifts.NewSchedule(shanghai, []shifts.Def{
		{ID: "day", Start: 8 * 60, Name: bilingual.New("白班", "Day")},
		{ID: "night", Start: 20 * 60, Name: bilingual.New("夜班", "Night")},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.cov = coverage.New(coverage.Config{DB: db, Catalogue: st, Schedule: sched, Now: clock,
		Policies: map[string]coverage.Policy{"doffing_room_1": {OncePerShift: true}}})
	if r.stats, err = New(Config{DB: db, Review: r.review, Catalogue: st, Coverage: r.cov, Schedule: sched, Now: clock}); err != nil {
		t.Fatal(err)
	}
	return r
}

// seed files n findings over the 60 days before tNow, with lives drawn
// from a fixed seed: acknowledged, rectified after some hours, verified,
// reopened, withdrawn; some reviewed, commented, given an outcome.
func (r *room) seed(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(13, 13))
	templates := []string{"ppe-doffing", "disinfection", ""}
	officers := []string{"duty1", "duty2", "duty3"}
	for i := range n {
		site := testSites[rnd.IntN(len(testSites))].ID
		tpl := templates[rnd.IntN(len(templates))]
		dev := testDeviations[tpl][rnd.IntN(len(testDeviations[tpl]))]
		observed := tNow.Add(-time.Duration(rnd.IntN(60*24*60)) * time.Minute)
		deadline := observed.Add(time.Duration(2+rnd.IntN(10*24)) * time.Hour)
		d := wire.Draft{ID: fmt.Sprintf("f%03d", i), Site: site, Camera: "cam1", Zone: "doffing_room_1", TemplateID: tpl, Deviation: dev,
			DeviationText: "手卫生不规范 " + dev, Severity: findings.Severities[rnd.IntN(3)], Note: []string{"", "消毒液浓度不足", "gloves torn"}[rnd.IntN(3)],
			ObservedAt: observed, FlaggedAt: observed.Add(time.Minute), Deadline: deadline}
		if dev != "" {
			d.DeviationTitle = map[string]string{"zh-CN": "偏差" + dev, "en": "Deviation " + dev}
		}
		if tpl != "" {
			d.TemplateVersion = 1
		}
		r.now = d.FlaggedAt
		officer := auth.Principal{Name: officers[rnd.IntN(len(officers))], Role: auth.RoleDuty}
		if _, _, err := r.finds.Create(ctx, officer, d); err != nil {
			t.Fatalf("filing %s: %v", d.ID, err)
		}
		r.deadline[d.ID], r.status[d.ID] = deadline, wire.StatusOpen
		act := func(by auth.Principal, a wire.Action, after time.Duration) {
			r.now = r.now.Add(after)
			if r.now.After(tNow) {
				r.now = tNow
			}
			req := findings.Request{ActionID: fmt.Sprintf("%s-%s-%d", d.ID, a, r.now.UnixNano()), Action: a, Note: "已更换"}
			if a == wire.ActReopen {
				dl := r.now.Add(time.Duration(rnd.IntN(96)) * time.Hour)
				req.Deadline, r.deadline[d.ID] = &dl, dl
			}
			if _, err := r.finds.Act(ctx, by, d.ID, req); err != nil {
				t.Fatalf("%s of %s: %v", a, d.ID, err)
			}
			r.status[d.ID], _ = findings.Next(r.status[d.ID], a)
		}
		switch life := rnd.IntN(10); {
		case life == 0:
			act(officer, wire.ActWithdraw, time.Hour)
		case life < 3: // left open
		default:
			act(r.manager, wire.ActAcknowledge, time.Duration(1+rnd.IntN(5))*time.Hour)
			if life < 4 {
				break
			}
			act(r.manager, wire.ActRectify, time.Duration(1+rnd.IntN(72))*time.Hour)
			r.hours[d.ID] = r.now.Sub(d.FlaggedAt).Hours()
			switch life {
			case 6, 7:
				act(officer, wire.ActVerify, time.Hour)
			case 8:
				act(officer, wire.ActReopen, time.Hour)
				delete(r.hours, d.ID) // not rectified as it stands
			}
		}
		r.now = tNow
		if rnd.IntN(4) == 0 {
			if _, err := r.review.SetReviewed(ctx, supervisor, d.ID, true); err != nil {
				t.Fatal(err)
			}
		}
		if rnd.IntN(8) == 0 {
			if _, err := r.review.AddComment(ctx, supervisor, d.ID, "现场复查 回头看"); err != nil {
				t.Fatal(err)
			}
		}
		if rnd.IntN(10) == 0 {
			if err := r.review.AddOutcome(ctx, supervisor, d.ID, wire.Outcome{Kind: wire.OutcomeRectifyOrder, DocNumber: fmt.Sprintf("责改〔2026〕%d号", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.now = tNow
	// The search index as the relay keeps it, for the test's own counts.
	if err := r.review.Index(ctx); err != nil {
		t.Fatal(err)
	}
}

// count is the SQL count of a filter's findings, as the contract defines
// it, and the review list's total.
func (r *room) count(t *testing.T, q url.Values) (sqlCount, listTotal int) {
	t.Helper()
	f, err := review.ParseFilter(q, tNow, shanghai)
	if err != nil {
		t.Fatalf("parsing %s: %v", q.Encode(), err)
	}
	w, args := r.review.Where(f)
	if err := r.db.QueryRow(`SELECT count(*) FROM findings f WHERE `+w, args...).Scan(&sqlCount); err != nil {
		t.Fatal(err)
	}
	page, err := r.review.List(context.Background(), supervisor, f, review.Page{Limit: 1})
	if err != nil {
		t.Fatalf("listing %s: %v", q.Encode(), err)
	}
	return sqlCount, page.Total
}

// ids are a filter's findings.
func (r *room) ids(t *testing.T, q url.Values) []string {
	t.Helper()
	f, err := review.ParseFilter(q, tNow, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	w, args := r.review.Where(f)
	rows, err := r.db.Query(`SELECT f.id FROM findings f WHERE `+w, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func query(t *testing.T, s string, extra ...string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

// The filters the statistics are checked over: each parameter of the
// review filter, alone and together.
var testFilters = []string{
	"",
	"district=东城区",
	"district=东城区,朝阳区&severity=critical",
	"site=s03",
	"site_type=hotel&status=open,reopened",
	"template=-",
	"template=ppe-doffing&deviation=wrong_order",
	"deviation=missed_hand_hygiene,no_record",
	"severity=major&officer=duty2",
	"overdue=1",
	"overdue=0&district=西城区",
	"reviewed=1",
	"reviewed=0&template=disinfection",
	"outcome=any",
	"outcome=none&severity=minor",
	"repeat=7",
	"repeat=30&site_type=hotel",
	"q=消毒",
	"q=回头看",
	"from=2026-11-01&to=2026-11-15",
	"from=2026-11-20T13:30:00%2B08:00&to=2026-12-01T02:00:00%2B08:00&status=verified",
	"from=2026-10-20",
	"to=2026-10-31&overdue=1",
	"district=朝阳区&overdue=1&reviewed=0",
}

// TestGroupsAddUpAndDrillDown is the statistics' promise: for every filter
// and grouping, the groups' counts add up to the total, which is the SQL
// count of the review filter and the review list's total, each split adds
// up to its group, and each group's drill, read back as a review filter,
// lists exactly the group's count.
func TestGroupsAddUpAndDrillDown(t *testing.T) {
	r := open(t)
	r.seed(t, 300)
	ctx := context.Background()
	for _, fs := range testFilters {
		t.Run(fs, func(t *testing.T) {
			sqlCount, listTotal := r.count(t, query(t, fs))
			if sqlCount != listTotal {
				t.Fatalf("SQL counts %d, the review list %d", sqlCount, listTotal)
			}
			for _, g := range Groupings {
				split := "severity"
				if g == split {
					split = "status"
				}
				got, err := r.stats.Findings(ctx, duty, query(t, fs, "group", g, "split", split))
				if err != nil {
					t.Fatalf("by %s: %v", g, err)
				}
				sum := 0
				for _, grp := range got.Groups {
					sum += grp.Count
					splitSum := 0
					for _, n := range grp.Split {
						splitSum += n
					}
					if splitSum != grp.Count {
						t.Errorf("by %s, %s: split by %s adds up to %d, not %d", g, grp.Key, split, splitSum, grp.Count)
					}
					if !grp.Label.Complete() {
						t.Errorf("by %s, %s: label %v", g, grp.Key, grp.Label)
					}
					if n, _ := r.count(t, query(t, grp.Drill)); n != grp.Count {
						t.Errorf("by %s, %s: counts %d, its drill %q lists %d", g, grp.Key, grp.Count, grp.Drill, n)
					}
				}
				if sum != got.Total || got.Total != sqlCount {
					t.Errorf("by %s: groups add up to %d, total %d, the review list %d", g, sum, got.Total, sqlCount)
				}
			}
		})
	}
}

// TestRectification checks the rectification figures against what the
// test did: the findings rectified and verified as they stand, the rate
// over those not withdrawn, and the median of the hours from flagging to
// the first rectification reported; by group, the groups add up.
func TestRectification(t *testing.T) {
	r := open(t)
	r.seed(t, 200)
	ctx := context.Background()
	for _, fs := range []string{"", "district=东城区", "template=ppe-doffing&severity=major", "overdue=0", "q=消毒", "from=2026-11-10&to=2026-11-30"} {
		t.Run(fs, func(t *testing.T) {
			var want wire.Rectification
			var hours []float64
			withdrawn := 0
			for _, id := range r.ids(t, query(t, fs)) {
				want.Total++
				switch r.status[id] {
				case wire.StatusRectified, wire.StatusVerified:
					want.Rectified++
					hours = append(hours, r.hours[id])
				case wire.StatusWithdrawn:
					withdrawn++
				}
				if r.status[id] == wire.StatusVerified {
					want.Verified++
				}
			}
			got, err := r.stats.Rectification(ctx, supervisor, query(t, fs, "group", "district"))
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != want.Total || got.Rectified != want.Rectified || got.Verified != want.Verified {
				t.Errorf("total %d rectified %d verified %d, want %d %d %d", got.Total, got.Rectified, got.Verified, want.Total, want.Rectified, want.Verified)
			}
			if got.Rate == nil || *got.Rate != float64(want.Rectified)/float64(want.Total-withdrawn) {
				t.Errorf("rate %v, want %d/%d", got.Rate, want.Rectified, want.Total-withdrawn)
			}
			m := median(hours)
			if got.MedianHoursToRectify == nil || m == nil || diff(*got.MedianHoursToRectify, *m) > 0.01 {
				t.Errorf("median %v hours, want %v", deref(got.MedianHoursToRectify), deref(m))
			}
			sum := 0
			for _, g := range got.Groups {
				sum += g.Total
				if g.Count != g.Total {
					t.Errorf("%s: count %d, total %d", g.Key, g.Count, g.Total)
				}
				if n, _ := r.count(t, query(t, g.Drill)); n != g.Total {
					t.Errorf("%s: %d, its drill lists %d", g.Key, g.Total, n)
				}
				if n, _ := r.count(t, query(t, g.Drill, "status", "rectified,verified")); n != g.Rectified {
					t.Errorf("%s: %d rectified, its drill lists %d", g.Key, g.Rectified, n)
				}
			}
			if sum != got.Total {
				t.Errorf("the districts add up to %d, not %d", sum, got.Total)
			}
		})
	}
	// None at all: no rate, no median.
	got, err := r.stats.Rectification(ctx, duty, query(t, "site=nowhere"))
	if err != nil || got.Total != 0 || got.Rate != nil || got.MedianHoursToRectify != nil {
		t.Errorf("no findings: %+v, %v", got, err)
	}
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

// TestOverdueAges counts the overdue at the relay's now by age, against
// the deadlines and statuses the test gave: the ages add up to the review
// list's overdue=1, and each is right.
func TestOverdueAges(t *testing.T) {
	r := open(t)
	r.seed(t, 200)
	for _, fs := range []string{"", "district=西城区", "severity=critical", "overdue=1", "overdue=0", "reviewed=0&template=-"} {
		t.Run(fs, func(t *testing.T) {
			got, err := r.stats.Overdue(context.Background(), duty, query(t, fs))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			total := 0
			for _, id := range r.ids(t, query(t, fs)) {
				if !findings.Overdue(r.status[id], r.deadline[id], tNow) {
					continue
				}
				total++
				switch late := tNow.Sub(r.deadline[id]); {
				case late >= 7*24*time.Hour:
					want[wire.OverdueOverWeek]++
				case late >= 3*24*time.Hour:
					want[wire.OverdueDays3To7]++
				case late >= 24*time.Hour:
					want[wire.OverdueDays1To3]++
				default:
					want[wire.OverdueUnderDay]++
				}
			}
			listed, _ := r.count(t, query(t, fs, "overdue", "1"))
			if fs == "overdue=0" {
				listed = 0
			}
			if got.Total != total || total != listed {
				t.Errorf("total %d, want %d, the review list's overdue %d", got.Total, total, listed)
			}
			keys := []string{}
			for _, b := range got.Buckets {
				keys = append(keys, b.Key)
				if b.Count != want[b.Key] {
					t.Errorf("%s: %d, want %d", b.Key, b.Count, want[b.Key])
				}
				if !b.Label.Complete() {
					t.Errorf("%s: label %v", b.Key, b.Label)
				}
			}
			if fmt.Sprint(keys) != "[lt1d 1to3d 3to7d gt7d]" {
				t.Errorf("buckets %v", keys)
			}
		})
	}
}

// TestRepeatsAndRanking: the repeats per site add up to the review list's
// repeat filter and drill to each site's; the ranking's figures are each
// site's counts under the filter, its score the documented weighing, in
// order, and a site on the follow-up list says so.
func TestRepeatsAndRanking(t *testing.T) {
	r := open(t)
	r.seed(t, 250)
	ctx := context.Background()
	if _, _, err := r.stats.Follow(ctx, supervisor, "s04", wire.FollowupRequest{Reason: "问题较多", Filter: "district=西城区"}); err != nil {
		t.Fatal(err)
	}
	for _, fs := range []string{"", "district=东城区,西城区", "severity=critical,major", "repeat=7", "overdue=0", "from=2026-11-01"} {
		t.Run(fs, func(t *testing.T) {
			reps, err := r.stats.Repeats(ctx, duty, query(t, fs, "days", "14"))
			if err != nil {
				t.Fatal(err)
			}
			sum := 0
			for i, rp := range reps {
				sum += rp.Count
				if n, _ := r.count(t, query(t, rp.Drill)); n != rp.Count {
					t.Errorf("repeats at %s: %d, the drill lists %d", rp.Site, rp.Count, n)
				}
				if i > 0 && reps[i-1].Count < rp.Count {
					t.Errorf("repeats not most first: %v", reps)
				}
			}
			if listed, _ := r.count(t, query(t, fs, "repeat", "14")); listed != sum {
				t.Errorf("repeats add up to %d, the review list's repeat=14 to %d", sum, listed)
			}

			ranked, err := r.stats.Sites(ctx, supervisor, query(t, fs, "limit", "5"))
			if err != nil {
				t.Fatal(err)
			}
			if len(ranked) == 0 || len(ranked) > 5 {
				t.Fatalf("%d sites ranked, want 1 to 5", len(ranked))
			}
			for i, rs := range ranked {
				c := func(extra ...string) int {
					n, _ := r.count(t, query(t, rs.Drill, extra...))
					return n
				}
				rep := 30
				if f, _ := review.ParseFilter(query(t, fs), tNow, shanghai); f.Repeat > 0 {
					rep = min(rep, f.Repeat)
				}
				sev := func(k string) int {
					if f, _ := review.ParseFilter(query(t, fs), tNow, shanghai); len(f.Severities) > 0 && !slices.Contains(f.Severities, k) {
						return 0
					}
					return c("severity", k)
				}
				want := wire.RankedSite{Findings: c(), Critical: sev("critical"), Major: sev("major"), Minor: sev("minor"),
					Overdue: c("overdue", "1"), Repeats: c("repeat", fmt.Sprint(rep))}
				if fs == "overdue=0" {
					want.Overdue = 0
				}
				want.Score = want.Critical*3 + want.Major*2 + want.Minor + want.Overdue*2 + want.Repeats
				if rs.Findings != want.Findings || rs.Critical != want.Critical || rs.Major != want.Major || rs.Minor != want.Minor ||
					rs.Overdue != want.Overdue || rs.Repeats != want.Repeats || rs.Score != want.Score {
					t.Errorf("%s: %+v, want %+v", rs.Site, rs, want)
				}
				if i > 0 && ranked[i-1].Score < rs.Score {
					t.Errorf("not in order of score: %s %d after %s %d", rs.Site, rs.Score, ranked[i-1].Site, ranked[i-1].Score)
				}
				if rs.Following != (rs.Site == "s04") {
					t.Errorf("%s: following %v", rs.Site, rs.Following)
				}
				if !rs.Name.Complete() || !rs.District.Complete() || rs.SiteType == "" {
					t.Errorf("%s: name %v district %v type %q", rs.Site, rs.Name, rs.District, rs.SiteType)
				}
			}
		})
	}
}

// TestSearchCountsWhatWasJustWritten: a count with q reads the search
// index brought up to date, as the review list does, not as it stood.
func TestSearchCountsWhatWasJustWritten(t *testing.T) {
	r := open(t)
	r.seed(t, 20)
	ctx := context.Background()
	d := wire.Draft{ID: "new", Site: "s01", Camera: "cam1", Zone: "doffing_room_1", DeviationText: "护目镜起雾", Severity: "minor",
		Note: "紫外线灯损坏", ObservedAt: tNow.Add(-time.Hour), FlaggedAt: tNow.Add(-time.Hour), Deadline: tNow.Add(time.Hour)}
	if _, _, err := r.finds.Create(ctx, duty, d); err != nil {
		t.Fatal(err)
	}
	got, err := r.stats.Findings(ctx, duty, query(t, "q=紫外线", "group", "site"))
	if err != nil || got.Total != 1 || len(got.Groups) != 1 || got.Groups[0].Key != "s01" {
		t.Fatalf("q=紫外线 by site: %+v, %v; want the one finding just filed", got, err)
	}
}

// TestFollowups: supervisors and admins put sites on the list and take
// them off, duty reads it, site managers do neither; a filter the review
// list would refuse, an unknown site and a long reason are refused.
func TestFollowups(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	f, created, err := r.stats.Follow(ctx, supervisor, "s03", wire.FollowupRequest{Reason: "四不两直 回头看", Filter: "district=西城区&overdue=1"})
	if err != nil || !created || f.Site != "s03" || f.AddedBy != "sup" || !f.Name.Complete() || !f.AddedAt.Equal(tNow) {
		t.Fatalf("follow: %+v %v %v", f, created, err)
	}
	r.now = tNow.Add(time.Minute)
	if f, created, err = r.stats.Follow(ctx, admin, "s03", wire.FollowupRequest{Reason: "再看"}); err != nil || created || f.Reason != "再看" || f.AddedBy != "admin" {
		t.Fatalf("follow again: %+v %v %v", f, created, err)
	}
	if _, _, err := r.stats.Follow(ctx, supervisor, "s01", wire.FollowupRequest{}); err != nil {
		t.Fatal(err)
	}
	list, err := r.stats.Followups(ctx, duty)
	if err != nil || len(list) != 2 || list[0].Site != "s01" || list[1].Site != "s03" || list[1].Reason != "再看" {
		t.Fatalf("the list, latest first: %+v, %v", list, err)
	}
	refused := []struct {
		name  string
		err   func() error
		kind  fault.Kind
		field string
	}{
		{"duty writes", func() error { _, _, err := r.stats.Follow(ctx, duty, "s02", wire.FollowupRequest{}); return err }, fault.Forbidden, ""},
		{"duty deletes", func() error { return r.stats.Unfollow(ctx, duty, "s03") }, fault.Forbidden, ""},
		{"manager reads", func() error { _, err := r.stats.Followups(ctx, r.manager); return err }, fault.Forbidden, ""},
		{"manager writes", func() error {
			_, _, err := r.stats.Follow(ctx, r.manager, "s02", wire.FollowupRequest{})
			return err
		}, fault.Forbidden, ""},
		{"unknown site", func() error { _, _, err := r.stats.Follow(ctx, supervisor, "s99", wire.FollowupRequest{}); return err }, fault.NotFound, ""},
		{"bad filter", func() error {
			_, _, err := r.stats.Follow(ctx, supervisor, "s02", wire.FollowupRequest{Filter: "colour=red"})
			return err
		}, fault.Invalid, "filter"},
		{"bad period", func() error {
			_, _, err := r.stats.Follow(ctx, supervisor, "s02", wire.FollowupRequest{Filter: "from=yesterday"})
			return err
		}, fault.Invalid, "filter"},
		{"long reason", func() error {
			_, _, err := r.stats.Follow(ctx, supervisor, "s02", wire.FollowupRequest{Reason: string(make([]rune, 501))})
			return err
		}, fault.Invalid, "reason"},
	}
	for _, c := range refused {
		err := c.err()
		if fault.KindOf(err) != c.kind || (c.field != "" && fault.As(err).Field != c.field) {
			t.Errorf("%s: %v, want kind %d field %q", c.name, err, c.kind, c.field)
		}
	}
	if err := r.stats.Unfollow(ctx, supervisor, "s03"); err != nil {
		t.Fatal(err)
	}
	if err := r.stats.Unfollow(ctx, supervisor, "s03"); err != nil {
		t.Fatalf("taking off again: %v", err)
	}
	if list, _ := r.stats.Followups(ctx, admin); len(list) != 1 || list[0].Site != "s01" {
		t.Fatalf("after taking s03 off: %+v", list)
	}
}

// TestCoveragePerShift: the watch coverage of each shift of a period, from
// the watches consoles reported: the minutes watched in the shift they
// fell in, the sites whose once-a-shift policy it met, and a drill to the
// findings observed in it.
func TestCoveragePerShift(t *testing.T) {
	r := open(t)
	r.seed(t, 60)
	ctx := context.Background()
	// Watched s02's camera for 30 minutes of the night shift of 1 December.
	start := time.Date(2026, 12, 1, 21, 0, 0, 0, shanghai)
	r.now = start.Add(time.Hour)
	if _, err := r.cov.Record(ctx, "duty1", wire.WatchBatch{Console: "c1", Now: r.now, Intervals: []wire.WatchInterval{
		{ID: "w1", Site: "s02", Camera: "cam1", Mode: wire.ModeFocus, Start: start, End: start.Add(30 * time.Minute)}}}); err != nil {
		t.Fatal(err)
	}
	r.now = tNow
	got, err := r.stats.Coverage(ctx, duty, query(t, "from=2026-12-01&to=2026-12-02"))
	if err != nil {
		t.Fatal(err)
	}
	// 1 Dec 00:00–08:00 (the night from 30 Nov), day, night; 2 Dec's night,
	// begun at 20:00, up to now (20:30).
	var shifts []string
	for _, c := range got {
		shifts = append(shifts, c.Shift+" "+c.Start.In(shanghai).Format("02 15:04"))
		if c.Sites != len(testSites) || !c.Name.Complete() {
			t.Errorf("%s: %d sites, name %v", c.Shift, c.Sites, c.Name)
		}
		night := c.Start.Equal(time.Date(2026, 12, 1, 20, 0, 0, 0, shanghai))
		if want := map[bool]int64{true: 30, false: 0}[night]; c.MinutesWatched != want {
			t.Errorf("%s %v: %d minutes watched, want %d", c.Shift, c.Start, c.MinutesWatched, want)
		}
		if want := map[bool]int{true: 1, false: 0}[night]; c.SitesMet != want {
			t.Errorf("%s %v: %d sites met their policy, want %d", c.Shift, c.Start, c.SitesMet, want)
		}
		f, err := review.ParseFilter(query(t, c.Drill), tNow, shanghai)
		if err != nil {
			t.Fatalf("drill %q: %v", c.Drill, err)
		}
		if !f.From.Equal(maxTime(c.Start, time.Date(2026, 12, 1, 0, 0, 0, 0, shanghai))) || !f.To.Equal(minTime(c.End, time.Date(2026, 12, 3, 0, 0, 0, 0, shanghai))) {
			t.Errorf("%s: drill %q is not the shift within the period", c.Shift, c.Drill)
		}
	}
	if fmt.Sprint(shifts) != "[night 30 20:00 day 01 08:00 night 01 20:00 day 02 08:00 night 02 20:00]" {
		t.Errorf("shifts %v", shifts)
	}
	for _, c := range []struct{ q, field string }{{"from=2026-12-01", "to"}, {"to=2026-12-01", "from"}, {"from=2026-12-01&to=2026-12-02&site=s01", "site"},
		{"from=2025-01-01&to=2026-12-01", "to"}, {"from=2026-12-01&to=2026-11-01", "to"}} {
		if _, err := r.stats.Coverage(ctx, duty, query(t, c.q)); fault.As(err) == nil || fault.As(err).Field != c.field {
			t.Errorf("%s: %v, want invalid_field %s", c.q, err, c.field)
		}
	}
}

// TestBadInput: what the statistics refuse, each naming its field, and
// who they refuse.
func TestBadInput(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		call  func(q url.Values) error
		q     string
		field string
	}{
		{"no group", func(q url.Values) error { _, err := r.stats.Findings(ctx, duty, q); return err }, "", "group"},
		{"unknown group", func(q url.Values) error { _, err := r.stats.Findings(ctx, duty, q); return err }, "group=colour", "group"},
		{"unknown split", func(q url.Values) error { _, err := r.stats.Findings(ctx, duty, q); return err }, "group=day&split=colour", "split"},
		{"split as group", func(q url.Values) error { _, err := r.stats.Findings(ctx, duty, q); return err }, "group=day&split=day", "split"},
		{"group twice", func(q url.Values) error { _, err := r.stats.Findings(ctx, duty, q); return err }, "group=day&group=site", "group"},
		{"unknown filter", func(q url.Values) error { _, err := r.stats.Findings(ctx, duty, q); return err }, "group=day&colour=red", "colour"},
		{"malformed period", func(q url.Values) error { _, err := r.stats.Findings(ctx, duty, q); return err }, "group=day&from=2026-13-01", "from"},
		{"rectification by colour", func(q url.Values) error { _, err := r.stats.Rectification(ctx, duty, q); return err }, "group=colour", "group"},
		{"overdue with a group", func(q url.Values) error { _, err := r.stats.Overdue(ctx, duty, q); return err }, "group=day", "group"},
		{"repeats of 0 days", func(q url.Values) error { _, err := r.stats.Repeats(ctx, duty, q); return err }, "days=0", "days"},
		{"repeats of a year and a day", func(q url.Values) error { _, err := r.stats.Repeats(ctx, duty, q); return err }, "days=366", "days"},
		{"ranking of 1000", func(q url.Values) error { _, err := r.stats.Sites(ctx, duty, q); return err }, "limit=1000", "limit"},
		{"ranking of none", func(q url.Values) error { _, err := r.stats.Sites(ctx, duty, q); return err }, "limit=x", "limit"},
	} {
		err := c.call(query(t, c.q))
		if fe := fault.As(err); fe == nil || fe.Kind != fault.Invalid || fe.Field != c.field {
			t.Errorf("%s (%s): %v, want invalid_field %s", c.name, c.q, err, c.field)
		}
	}
	q := query(t, "group=site")
	for name, call := range map[string]func() error{
		"findings":      func() error { _, err := r.stats.Findings(ctx, r.manager, q); return err },
		"rectification": func() error { _, err := r.stats.Rectification(ctx, r.manager, url.Values{}); return err },
		"overdue":       func() error { _, err := r.stats.Overdue(ctx, r.manager, url.Values{}); return err },
		"repeats":       func() error { _, err := r.stats.Repeats(ctx, r.manager, url.Values{}); return err },
		"sites":         func() error { _, err := r.stats.Sites(ctx, r.manager, url.Values{}); return err },
		"coverage": func() error {
			_, err := r.stats.Coverage(ctx, r.manager, query(t, "from=2026-12-01&to=2026-12-02"))
			return err
		},
	} {
		if err := call(); fault.KindOf(err) != fault.Forbidden {
			t.Errorf("a site manager's %s: %v, want forbidden", name, err)
		}
	}
}

// TestQueryTimeout: a statistic whose query runs past the bound is
// interrupted and refused 503 query_timeout, not left to hold the relay.
func TestQueryTimeout(t *testing.T) {
	r := open(t)
	r.seed(t, 10)
	slow, err := New(Config{DB: r.db, Review: r.review, Catalogue: r.st, Coverage: r.cov, Schedule: r.stats.Schedule,
		Now: r.stats.Now, QueryTimeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = slow.Findings(context.Background(), duty, query(t, "group=site"))
	if fe := fault.As(err); fe == nil || fe.Kind != fault.Unavailable || fe.Code != "query_timeout" {
		t.Fatalf("a count past its bound: %v, want 503 query_timeout", err)
	}
	if _, err := r.stats.Findings(context.Background(), duty, query(t, "group=site")); err != nil {
		t.Fatalf("within the default bound: %v", err)
	}
}
