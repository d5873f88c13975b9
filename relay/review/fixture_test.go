package review_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/runs"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// The fixture's clock: every finding is observed before it.
var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// shanghai is the duty room's time zone in these tests.
var shanghai = time.FixedZone("CST", 8*3600)

var (
	supervisor = auth.Principal{Name: "sup", Role: auth.RoleSupervisor}
	duty       = auth.Principal{Name: "duty1", Role: auth.RoleDuty}
	admin      = auth.Principal{Name: "root", Role: auth.RoleAdmin}
)

type fixtureSite struct {
	id, districtZH, districtEN, kind string
}

var fixtureSites = []fixtureSite{
	{"s1", "东城区", "Dongcheng", "hotel"},
	{"s2", "东城区", "Dongcheng", "purpose_built"},
	{"s3", "西城区", "Xicheng", "dormitory"},
	{"s4", "西城区", "Xicheng", "hotel"},
	{"s5", "朝阳区", "Chaoyang", "other"},
	{"s6", "朝阳区", "Chaoyang", "purpose_built"},
}

// model is what the test knows of a finding it made, to tell which
// findings a filter must keep without asking the code under test.
type model struct {
	id, site, district, kind, template, deviation, severity, observer string
	status                                                            wire.Status
	observed, deadline                                                time.Time
	reviewed                                                          bool
	outcomes                                                          []string
	texts                                                             []string
}

func (m model) overdue() bool { return findings.Overdue(m.status, m.deadline, now) }

type fixture struct {
	db       *sql.DB
	sites    *store.Store
	findings *findings.Store
	review   *review.Store
	models   []model
}

func (fx *fixture) byID(id string) *model {
	for i := range fx.models {
		if fx.models[i].id == id {
			return &fx.models[i]
		}
	}
	return nil
}

// kept is the ids of the findings keep keeps, in cmp's order: what a
// filter's list must be, worked out without the code under test.
func (fx *fixture) kept(keep func(model) bool, cmp func(a, b model) int) []string {
	var models []model
	for _, m := range fx.models {
		if keep(m) {
			models = append(models, m)
		}
	}
	slices.SortFunc(models, cmp)
	ids := make([]string, len(models))
	for i, m := range models {
		ids[i] = m.id
	}
	return ids
}

var templates = []struct{ id, deviations string }{
	{"ppe-doffing", "gloves-first,no-hand-hygiene,goggles-order"},
	{"disinfection", "wrong-dilution,skipped-surface"},
	{"", ""}, // free text
}

// notes are the words findings carry, Chinese and English, for search.
var notes = []string{"未正确佩戴口罩", "手套破损", "消毒液浓度不足", "Goggles fogged", "dilution wrong at the door", ""}

// newFixture makes n findings at the fixture's sites with a spread of
// every field a filter reads, moved along their states, some reviewed,
// commented and given outcomes.
func newFixture(t *testing.T, n int) *fixture {
	t.Helper()
	return newFixtureAt(t, n, func(i int, rng *rand.Rand) time.Time {
		return now.Add(-time.Duration(rng.IntN(60*24)) * time.Hour).Add(-time.Duration(i) * time.Second)
	})
}

// newOrderedFixture is newFixture's findings filed in the order observed,
// 37 minutes apart up to now, as a relay whose consoles forward at once
// files them.
func newOrderedFixture(t *testing.T, n int) *fixture {
	t.Helper()
	return newFixtureAt(t, n, func(i int, _ *rand.Rand) time.Time {
		return now.Add(-time.Duration(n-i) * 37 * time.Minute)
	})
}

// newFixtureAt is newFixture with the i-th finding observed at observed(i).
func newFixtureAt(t *testing.T, n int, observed func(i int, rng *rand.Rand) time.Time) *fixture {
	t.Helper()
	ctx := context.Background()
	db, st := storetest.Open(t)
	for _, s := range fixtureSites {
		if err := st.PutSite(ctx, store.Site{ID: s.id, District: bilingual.New(s.districtZH, s.districtEN),
			Name: bilingual.New("站点"+s.id, "Site "+s.id), TimeZone: "Asia/Shanghai", Kind: s.kind}, nil); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := findings.New(findings.Config{DB: db, Sites: st, EvidenceDir: t.TempDir(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := review.New(review.Config{DB: db, Findings: fs, Runs: runs.New(db), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{db: db, sites: st, findings: fs, review: rv}
	rng := rand.New(rand.NewPCG(1, 2))
	officers := []string{"duty1", "duty2", "duty3"}
	for i := range n {
		s := fixtureSites[rng.IntN(len(fixtureSites))]
		tpl := templates[rng.IntN(len(templates))]
		dev := ""
		if tpl.deviations != "" {
			devs := splitComma(tpl.deviations)
			dev = devs[rng.IntN(len(devs))]
		}
		observed := observed(i, rng)
		m := model{
			id: fmt.Sprintf("f%03d", i), site: s.id, district: s.districtZH, kind: s.kind, template: tpl.id, deviation: dev,
			severity: findings.Severities[rng.IntN(3)], observer: officers[rng.IntN(len(officers))], status: wire.StatusOpen,
			observed: observed.Truncate(time.Millisecond), deadline: observed.Add(time.Duration(1+rng.IntN(10*24)) * time.Hour).Truncate(time.Millisecond),
		}
		note := notes[rng.IntN(len(notes))]
		text := "deviation " + dev
		if dev == "" {
			text = "自由文本 free text"
		}
		d := findings.Draft{ID: m.id, Site: m.site, Camera: "cam1", Zone: "z", TemplateID: m.template, Deviation: dev,
			DeviationText: text, Severity: m.severity, Note: note, ObservedAt: m.observed, FlaggedAt: m.observed, Deadline: m.deadline}
		if _, _, err := fs.Create(ctx, auth.Principal{Name: m.observer, Role: auth.RoleDuty}, d); err != nil {
			t.Fatalf("filing %s: %v", m.id, err)
		}
		m.texts = append(m.texts, text, note)
		manager := auth.Principal{Name: "mgr-" + m.site, Role: auth.RoleSiteManager, Sites: []string{m.site}}
		act := func(by auth.Principal, a wire.Action, note string, to wire.Status) {
			t.Helper()
			req := findings.Request{ActionID: fmt.Sprintf("%s-%s-%d", m.id, a, len(m.texts)), Action: a, Note: note}
			if a == wire.ActReopen {
				dl := now.Add(72 * time.Hour)
				req.Deadline = &dl
				m.deadline = dl
			}
			if _, err := fs.Act(ctx, by, m.id, req); err != nil {
				t.Fatalf("%s of %s: %v", a, m.id, err)
			}
			m.status = to
			m.texts = append(m.texts, note)
		}
		switch rng.IntN(6) {
		case 0: // open
		case 1:
			act(manager, wire.ActAcknowledge, "", wire.StatusAcknowledged)
		case 2:
			act(manager, wire.ActAcknowledge, "", wire.StatusAcknowledged)
			act(manager, wire.ActRectify, "已更换新手套并培训", wire.StatusRectified)
		case 3:
			act(manager, wire.ActAcknowledge, "", wire.StatusAcknowledged)
			act(manager, wire.ActRectify, "replaced the dispenser", wire.StatusRectified)
			act(duty, wire.ActVerify, "", wire.StatusVerified)
		case 4:
			act(duty, wire.ActWithdraw, "误报", wire.StatusWithdrawn)
		case 5:
			act(manager, wire.ActAcknowledge, "", wire.StatusAcknowledged)
			act(manager, wire.ActRectify, "done", wire.StatusRectified)
			act(duty, wire.ActReopen, "还是不行", wire.StatusReopened)
		}
		if rng.IntN(3) == 0 {
			if _, err := rv.SetReviewed(ctx, supervisor, m.id, true); err != nil {
				t.Fatal(err)
			}
			m.reviewed = true
		}
		if rng.IntN(5) == 0 {
			kind := review.OutcomeKinds[rng.IntN(len(review.OutcomeKinds))]
			if err := rv.AddOutcome(ctx, supervisor, m.id, wire.Outcome{Kind: kind, DocNumber: fmt.Sprintf("DOC-%d", i)}); err != nil {
				t.Fatal(err)
			}
			m.outcomes = append(m.outcomes, kind)
		}
		if rng.IntN(7) == 0 {
			c := "需要现场复查 follow up on site"
			if _, err := rv.AddComment(ctx, supervisor, m.id, c); err != nil {
				t.Fatal(err)
			}
			m.texts = append(m.texts, c)
		}
		fx.models = append(fx.models, m)
	}
	return fx
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// repeats tells whether m has another finding (not withdrawn) of the same
// deviation at its site within days.
func (fx *fixture) repeats(m model, days int) bool {
	if m.deviation == "" {
		return false
	}
	window := time.Duration(days) * 24 * time.Hour
	return slices.ContainsFunc(fx.models, func(o model) bool {
		d := o.observed.Sub(m.observed)
		return o.id != m.id && o.site == m.site && o.deviation == m.deviation && o.status != wire.StatusWithdrawn &&
			d >= -window && d <= window
	})
}
