package seed

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/qianliyan/qianliyan/checklist"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// filler writes the record in one transaction on one connection, with the
// fill's pragmas (no fsync, no foreign-key checks: every row it writes
// refers to one written before it).
type filler struct {
	o     Options
	rng   *rand.Rand
	sites []site
	cum   []float64 // the sites' weights, cumulated
	zones map[string][]*template
	tpls  []*template
	ev    evidence

	conn  *sql.Conn
	tx    *sql.Tx
	stmts map[string]*sql.Stmt

	event   int64 // the last finding_events id written
	comment int64 // the last review_comments id written
	docs    int   // outcome document numbers issued
	done    int   // findings written
	runs    int
	sum     *Summary
}

// template is a checklist template as the fill uses it.
type template struct {
	t   *checklist.Template
	run wire.RunTemplate
}

const (
	insFinding = `INSERT INTO findings (id, site_id, camera_id, zone, template_id, template_version, step, deviation,
		deviation_text, deviation_title, severity, note, observer, observed_at, flagged_at, deadline, status, content, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insEvent    = `INSERT INTO finding_events (id, finding_id, at, actor, role, action, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`
	insEvidence = `INSERT INTO finding_evidence (finding_id, kind, position, sha256, bytes, content_type, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
	insRun      = `INSERT INTO runs (id, site, camera, template_id, template_version, activity, template, officer, filed_by, started_at, ended_at, seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insRunEvent   = `INSERT INTO run_events (run_id, seq, kind, at, body) VALUES (?, ?, ?, ?, ?)`
	insRunStep    = `INSERT INTO run_steps (run_id, step, mark, deviation, deviation_text, at, duration_ms, flagged) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	insRunFinding = `INSERT INTO run_findings (run_id, finding_id, seq) VALUES (?, ?, ?)`
	insMark       = `INSERT INTO review_marks (finding_id, reviewed_by, reviewed_at) VALUES (?, ?, ?)`
	insComment    = `INSERT INTO review_comments (id, finding_id, author, at, text) VALUES (?, ?, ?, ?, ?)`
	insOutcome    = `INSERT INTO review_outcomes (finding_id, kind, doc_number, note, author, at) VALUES (?, ?, ?, ?, ?, ?)`
)

func newFiller(ctx context.Context, db *sql.DB, o Options, rng *rand.Rand, sites []site, lib *checklist.Library, ev evidence) (*filler, error) {
	f := &filler{o: o, rng: rng, sites: sites, zones: map[string][]*template{}, ev: ev, stmts: map[string]*sql.Stmt{}}
	total := 0.0
	for _, s := range sites {
		total += s.weight
		f.cum = append(f.cum, total)
	}
	for _, t := range lib.Latest() {
		tp := &template{t: t, run: wire.RunTemplate{ID: t.ID, Version: t.Version, Activity: t.Activity}}
		for _, s := range t.Steps {
			tp.run.Steps = append(tp.run.Steps, s.ID)
		}
		for _, d := range t.Deviations {
			tp.run.Deviations = append(tp.run.Deviations, d.ID)
		}
		f.tpls = append(f.tpls, tp)
	}
	sort.Slice(f.tpls, func(i, j int) bool { return f.tpls[i].t.ID < f.tpls[j].t.ID })
	for _, c := range cameras {
		for _, tp := range f.tpls {
			if tp.t.AppliesTo(c.zone) && len(tp.t.Deviations) > 0 {
				f.zones[c.zone] = append(f.zones[c.zone], tp)
			}
		}
	}
	var err error
	if f.conn, err = db.Conn(ctx); err != nil {
		return nil, fmt.Errorf("filling the record: %w", err)
	}
	return f, nil
}

func (f *filler) fill(ctx context.Context, sum *Summary) (err error) {
	f.sum = sum
	defer f.conn.Close()
	// Outside the transaction: SQLite ignores these inside one.
	for _, p := range []string{"PRAGMA journal_mode = WAL", "PRAGMA synchronous = OFF", "PRAGMA foreign_keys = OFF",
		"PRAGMA cache_size = -262144", "PRAGMA temp_store = MEMORY"} {
		if _, err := f.conn.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("filling the record: %s: %w", p, err)
		}
	}
	defer func() {
		for _, p := range []string{"PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"} {
			if _, perr := f.conn.ExecContext(context.Background(), p); perr != nil && err == nil {
				err = fmt.Errorf("filling the record: %s: %w", p, perr)
			}
		}
	}()
	if f.tx, err = f.conn.BeginTx(ctx, nil); err != nil {
		return fmt.Errorf("filling the record: %w", err)
	}
	defer f.tx.Rollback()
	for _, q := range []string{insFinding, insEvent, insEvidence, insRun, insRunEvent, insRunStep, insRunFinding, insMark, insComment, insOutcome} {
		st, err := f.tx.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("filling the record: preparing %q: %w", q[:40], err)
		}
		defer st.Close()
		f.stmts[q] = st
	}
	indexes, err := f.dropIndexes(ctx)
	if err != nil {
		return err
	}
	if err := f.findings(ctx); err != nil {
		return err
	}
	if err := f.compliantRuns(ctx); err != nil {
		return err
	}
	// Made again over the whole tables at once: several times faster than
	// keeping each up to date row by row.
	for _, q := range indexes {
		if _, err := f.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("filling the record: making an index again: %w", err)
		}
	}
	// The seeded history is past: the notifier starts after it, as
	// migration 0005 started it at the events there were.
	if _, err := f.tx.ExecContext(ctx, `INSERT INTO notify_cursor (id, cursor) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET cursor = excluded.cursor`, f.event); err != nil {
		return fmt.Errorf("filling the record: %w", err)
	}
	if err := f.tx.Commit(); err != nil {
		return fmt.Errorf("filling the record: committing: %w", err)
	}
	if _, err := f.conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("filling the record: checkpoint: %w", err)
	}
	sum.Runs = f.runs
	return nil
}

// filled are the tables the fill writes.
var filled = []string{"findings", "finding_events", "finding_evidence", "runs", "run_events", "run_steps", "run_findings",
	"review_marks", "review_comments", "review_outcomes"}

// triggerIndexes are the indexes the migrations' triggers seek by
// (0019: a finding's nearest of the same deviation at its site), which
// the fill's inserts fire: without them each insert would read the whole
// table.
var triggerIndexes = []string{"findings_repeat", "findings_repeat_live"}

// dropIndexes drops the declared indexes of the tables the fill writes
// (their owners' migrations made them), returning the statements that
// make them again. The keys' own indexes and triggerIndexes stay.
func (f *filler) dropIndexes(ctx context.Context) ([]string, error) {
	rows, err := f.tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
		AND tbl_name IN (?`+strings.Repeat(", ?", len(filled)-1)+`) ORDER BY name`, anys(filled)...)
	if err != nil {
		return nil, fmt.Errorf("filling the record: reading the indexes: %w", err)
	}
	var names, sqls []string
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			rows.Close()
			return nil, fmt.Errorf("filling the record: reading the indexes: %w", err)
		}
		names, sqls = append(names, name), append(sqls, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("filling the record: reading the indexes: %w", err)
	}
	var again []string
	for i, name := range names {
		if slices.Contains(triggerIndexes, name) {
			continue
		}
		again = append(again, sqls[i])
		if _, err := f.tx.ExecContext(ctx, `DROP INDEX "`+name+`"`); err != nil {
			return nil, fmt.Errorf("filling the record: dropping index %s: %w", name, err)
		}
	}
	return again, nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (f *filler) exec(ctx context.Context, q string, args ...any) error {
	if _, err := f.stmts[q].ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("filling the record: %s: %w", strings.Fields(q)[2], err)
	}
	return nil
}

func ts(t time.Time) string { return sqlitedb.FormatTime(t) }

// id is a UUIDv7 as the consoles make them, its random bits from the seed:
// the ids sort by time, as real ones do.
func (f *filler) id(at time.Time) string {
	var u uuid.UUID
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(at.UnixMilli()))
	copy(u[:6], ms[2:])
	binary.BigEndian.PutUint64(u[8:], f.rng.Uint64())
	binary.BigEndian.PutUint16(u[6:], uint16(f.rng.Uint32()))
	u[6] = u[6]&0x0f | 0x70
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

func (f *filler) pickSite() site {
	x := f.rng.Float64() * f.cum[len(f.cum)-1]
	return f.sites[min(sort.SearchFloat64s(f.cum, x), len(f.sites)-1)]
}

// between is a time uniformly in [a+lo, a+hi).
func (f *filler) between(a time.Time, lo, hi time.Duration) time.Time {
	return a.Add(lo + time.Duration(f.rng.Int64N(int64(hi-lo)+1))).Truncate(time.Millisecond)
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// officer is who is on duty at t: three officers a shift (day 08–20, night
// 20–08, Asia/Shanghai), the teams rotating by day.
func (f *filler) officer(t time.Time) string {
	l := t.In(shanghai)
	night := l.Hour() < 8 || l.Hour() >= 20
	day := int(l.Add(-8*time.Hour).Unix() / 86400)
	team := day % 2 * 2
	if night {
		team++
	}
	return fmt.Sprintf("duty%d", team*3+f.rng.IntN(3)+1)
}

// notes officers add, and the sites' notes on rectifying: the words the
// review's full-text search finds.
var (
	notes = []string{
		"", "", "", "",
		"现场人员未按流程操作，已电话提醒负责人",
		"监控画面显示该人员多次违规",
		"夜间巡查发现，需重点关注",
		"同一问题本周已第二次出现",
		"保洁人员未佩戴护目镜",
		"垃圾桶未加盖，医废袋超过3/4满",
		"消毒记录缺失，含氯消毒液浓度不明",
		"送餐人员与隔离人员近距离接触",
		"隔离人员房门长时间开启",
		"Staff re-entered the clean zone without hand hygiene",
		"Waste bags left in the corridor overnight",
	}
	rectifyNotes = []string{
		"已对相关人员进行培训并重新考核",
		"已整改，补充消毒记录并张贴流程图",
		"已更换医废暂存点加盖垃圾桶",
		"已调整送餐流程，采用无接触送餐",
		"已加强夜间巡查，专人负责督导",
		"Retrained the cleaning staff; checklist posted at the door",
	}
	reopenNotes = []string{
		"复查画面仍见同样问题，请重新整改",
		"整改照片与现场不符",
		"The same deviation was seen again on re-check",
	}
	freeText = []string{
		"隔离人员擅自离开房间",
		"工作人员在污染区进食",
		"消毒液配置浓度不足",
		"缓冲间门未关闭",
		"Visitor entered without registration",
	}
)

// findingRow is one finding as it is written, its status where its
// history leaves it.
type findingRow struct {
	id, site, camera, zone, template, step, deviation, text, title, severity, note, observer string
	version                                                                                  int
	observed, flagged, deadline, updated                                                     time.Time
	status                                                                                   wire.Status
}

func (f *filler) findings(ctx context.Context) error {
	n := f.o.Findings
	span := time.Duration(f.o.Days) * 24 * time.Hour
	start := f.o.Now.Add(-span)
	for i := range n {
		if i%10000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if f.o.Progress != nil && i > 0 {
				f.o.Progress(i)
			}
		}
		// Evenly over the period, jittered, so that ids (by time) and rows
		// go in the order they would have been filed.
		observed := start.Add(time.Duration((float64(i) + f.rng.Float64()) / float64(n) * float64(span))).Truncate(time.Millisecond)
		if err := f.finding(ctx, observed); err != nil {
			return err
		}
	}
	f.sum.Findings = n
	return nil
}

func (f *filler) finding(ctx context.Context, observed time.Time) error {
	s := f.pickSite()
	cam := cameras[f.rng.IntN(len(cameras))]
	r := findingRow{site: s.id, camera: cam.id, zone: cam.zone, observed: observed, observer: f.officer(observed)}
	r.flagged = f.between(observed, 5*time.Second, 90*time.Second)
	r.id = f.id(r.flagged)
	var tp *template
	if tps := f.zones[cam.zone]; len(tps) > 0 && f.rng.IntN(100) >= 8 {
		tp = tps[f.rng.IntN(len(tps))]
		d := tp.t.Deviations[f.rng.IntN(len(tp.t.Deviations))]
		r.template, r.version, r.deviation = tp.t.ID, tp.t.Version, d.ID
		r.text, r.severity = d.Text["zh-CN"], string(d.Severity)
		title, _ := json.Marshal(map[string]string(d.Text))
		r.title = string(title)
		due := time.Duration(d.Deadline)
		if due <= 0 {
			due = 24 * time.Hour
		}
		r.deadline = r.flagged.Add(due)
		if f.rng.IntN(10) == 0 { // the officer judged it worse
			r.severity = "critical"
		}
	} else {
		r.text = freeText[f.rng.IntN(len(freeText))]
		r.severity = []string{"critical", "major", "major", "minor"}[f.rng.IntN(4)]
		r.deadline = r.flagged.Add([]time.Duration{2 * time.Hour, 24 * time.Hour, 72 * time.Hour}[f.rng.IntN(3)])
	}
	r.note = notes[f.rng.IntN(len(notes))]
	var run *runLink
	if tp != nil && f.rng.IntN(100) < 30 {
		r.step = tp.run.Steps[f.rng.IntN(len(tp.run.Steps))]
		run = &runLink{tp: tp, step: r.step}
	}

	// The draft as the console sent it: the content column.
	draft := wire.Draft{ID: r.id, Site: r.site, Camera: r.camera, Zone: r.zone, TemplateID: r.template, TemplateVersion: r.version,
		Step: r.step, Deviation: r.deviation, DeviationText: r.text, Severity: r.severity, Note: r.note, Observer: r.observer,
		ObservedAt: r.observed, FlaggedAt: r.flagged, Deadline: r.deadline}
	if r.title != "" {
		_ = json.Unmarshal([]byte(r.title), &draft.DeviationTitle)
	}
	content, _ := json.Marshal(draft) // plain fields: cannot fail

	events, status, deadline, updated := f.history(r)
	r.status, r.updated = status, updated
	events = f.review(r, deadline, events)
	if err := f.exec(ctx, insFinding, r.id, r.site, r.camera, r.zone, r.template, r.version, r.step, r.deviation, r.text, r.title,
		r.severity, r.note, r.observer, ts(r.observed), ts(r.flagged), ts(deadline), string(r.status), string(content), ts(r.flagged), ts(r.updated)); err != nil {
		return err
	}
	for _, e := range events {
		f.event++
		e.id = f.event
		if e.parent != nil {
			// A re-check's snapshot is named after its verify or reopen.
			e.detail["name"], e.detail["event"] = fmt.Sprintf("recheck-%d", e.parent.id), e.parent.id
			e.position = int(e.parent.id)
		}
		if e.comment != "" {
			f.comment++
			e.detail["comment"] = f.comment
		}
		detail, _ := json.Marshal(e.detail)
		if err := f.exec(ctx, insEvent, e.id, r.id, ts(e.at), e.actor, e.role, e.action, string(detail)); err != nil {
			return err
		}
		f.sum.Events++
		if err := f.eventRows(ctx, r.id, e); err != nil {
			return err
		}
	}
	f.done++
	if run != nil {
		return f.linkedRun(ctx, r, run)
	}
	return nil
}

// event is one finding_events row to write; evidence, when set, is the
// evidence row that goes with it.
type event struct {
	at                  time.Time
	actor, role, action string
	detail              map[string]any
	evidence            string
	position            int
	// parent is the verify or reopen a re-check's snapshot belongs to.
	parent *event
	// comment is a supervisor's comment, outcome their outcome's kind and
	// document number: the review's rows that go with the event.
	comment         string
	outcome, docNum string

	id int64 // once written
}

// history is the finding's life from its flagging up to Now: the console's
// evidence, the site's acknowledging and rectifying (some late, some
// never), the officers' verifying or reopening with a re-check snapshot.
// It returns the events and where they leave the finding.
func (f *filler) history(r findingRow) ([]*event, wire.Status, time.Time, time.Time) {
	now := f.o.Now
	manager := "manager-" + strings.TrimPrefix(r.site, "site-")
	status, deadline := wire.StatusOpen, r.deadline
	evs := []*event{{at: r.flagged, actor: r.observer, role: "duty", action: "created",
		detail: map[string]any{"severity": r.severity, "deadline": r.deadline.UTC(), "observer": r.observer}}}
	upload := func(at time.Time, kind string, file wire.File) {
		evs = append(evs, &event{at: at, actor: r.observer, role: "duty", action: "evidence", evidence: kind,
			detail: map[string]any{"kind": kind, "sha256": file.SHA256, "bytes": file.Bytes}})
	}
	snapAt := f.between(r.flagged, time.Second, 10*time.Second)
	upload(snapAt, "snapshot", f.ev.snapshot)
	upload(f.between(snapAt, 5*time.Second, 40*time.Second), "clip", f.ev.clip)
	act := func(at time.Time, actor, role, action string, to wire.Status, extra map[string]any) bool {
		if at.After(now) {
			return false
		}
		d := map[string]any{"from": status, "to": to}
		for k, v := range extra {
			d[k] = v
		}
		evs = append(evs, &event{at: at, actor: actor, role: role, action: action, detail: d})
		status = to
		return true
	}
	last := func() time.Time { return evs[len(evs)-1].at }
	roll := f.rng.IntN(100)
	switch {
	case roll < 3: // flagged in error
		act(f.between(r.flagged, 10*time.Minute, 2*time.Hour), r.observer, "duty", "withdraw", wire.StatusWithdrawn,
			map[string]any{"note": "误报，撤销"})
		return evs, status, deadline, last()
	case roll < 9: // a site that never answers: overdue and open
		return evs, status, deadline, last()
	}
	slow := f.rng.IntN(100) < 10
	for round := 0; round < 2; round++ {
		if round == 1 && f.rng.IntN(100) < 30 { // the site has not answered the reopening
			break
		}
		if !act(f.between(last(), 10*time.Minute, 6*time.Hour), manager, "site_manager", "acknowledge", wire.StatusAcknowledged, nil) {
			break
		}
		window := deadline.Sub(last())
		lo, hi := window/5, window*9/10
		if slow {
			lo, hi = window*11/10, window*3
		}
		if hi <= lo {
			lo, hi = time.Hour, 2*time.Hour
		}
		at := f.between(last(), lo, hi)
		if !act(at, manager, "site_manager", "rectify", wire.StatusRectified,
			map[string]any{"note": rectifyNotes[f.rng.IntN(len(rectifyNotes))], "photos": []string{fmt.Sprintf("photo-%d", round+1)}}) {
			break
		}
		evs[len(evs)-1].evidence, evs[len(evs)-1].position = "photo", round+1
		checker := f.officer(at)
		at = f.between(at, time.Hour, 20*time.Hour)
		if round == 0 && f.rng.IntN(100) < 12 {
			deadline = at.Add(24 * time.Hour)
			if !act(at, checker, "duty", "reopen", wire.StatusReopened,
				map[string]any{"note": reopenNotes[f.rng.IntN(len(reopenNotes))], "deadline": deadline.UTC()}) {
				break
			}
			f.recheck(&evs, at, checker)
			continue
		}
		if act(at, checker, "duty", "verify", wire.StatusVerified, nil) {
			f.recheck(&evs, at, checker)
		}
		break
	}
	return evs, status, deadline, last()
}

// recheck adds the snapshot an officer's verify or reopen kept.
func (f *filler) recheck(evs *[]*event, at time.Time, by string) {
	parent := (*evs)[len(*evs)-1]
	at = f.between(at, time.Second, 5*time.Second)
	if at.After(f.o.Now) {
		return
	}
	// Its name and position are the parent's id, known once written.
	*evs = append(*evs, &event{at: at, actor: by, role: "duty", action: "evidence", evidence: "recheck", parent: parent,
		detail: map[string]any{"kind": "recheck", "sha256": f.ev.snapshot.SHA256, "bytes": f.ev.snapshot.Bytes}})
}
