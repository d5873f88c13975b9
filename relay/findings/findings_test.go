package findings_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
)

var (
	duty    = auth.Principal{Name: "duty", Role: auth.RoleDuty}
	super   = auth.Principal{Name: "sup", Role: auth.RoleSupervisor}
	manager = auth.Principal{Name: "zhang", Role: auth.RoleSiteManager, Sites: []string{"site-01"}}
	other   = auth.Principal{Name: "li", Role: auth.RoleSiteManager, Sites: []string{"site-02"}}
)

var t0 = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newStore(t *testing.T) (*findings.Store, *clock) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, st := storetest.Open(t)
	for _, id := range []string{"site-01", "site-02"} {
		n := bilingual.New(id, id)
		if err := st.PutSiteInfo(ctx, store.Site{ID: id, District: n, Name: n, TimeZone: "Asia/Shanghai"}); err != nil {
			t.Fatal(err)
		}
	}
	c := &clock{t0}
	fs, err := findings.New(findings.Config{DB: db, Sites: st, EvidenceDir: filepath.Join(dir, "evidence"), Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return fs, c
}

func draft(id string) findings.Draft {
	return findings.Draft{ID: id, Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", TemplateID: "ppe-doffing",
		TemplateVersion: 1, Step: "goggles", Deviation: "wrong_order", DeviationText: "脱卸顺序错误", Severity: "major",
		Observer: "duty", ObservedAt: t0.Add(-time.Minute), FlaggedAt: t0, Deadline: t0.Add(4 * time.Hour)}
}

func TestNext(t *testing.T) {
	all := []findings.Status{findings.StatusOpen, findings.StatusAcknowledged, findings.StatusRectified,
		findings.StatusVerified, findings.StatusReopened, findings.StatusWithdrawn}
	allowed := map[findings.Action]map[findings.Status]findings.Status{
		findings.ActEdit:        {findings.StatusOpen: findings.StatusOpen},
		findings.ActAcknowledge: {findings.StatusOpen: findings.StatusAcknowledged, findings.StatusReopened: findings.StatusAcknowledged},
		findings.ActRectify:     {findings.StatusAcknowledged: findings.StatusRectified},
		findings.ActVerify:      {findings.StatusRectified: findings.StatusVerified},
		findings.ActReopen:      {findings.StatusRectified: findings.StatusReopened},
		findings.ActWithdraw: {findings.StatusOpen: findings.StatusWithdrawn, findings.StatusAcknowledged: findings.StatusWithdrawn,
			findings.StatusRectified: findings.StatusWithdrawn, findings.StatusReopened: findings.StatusWithdrawn},
	}
	for a, ok := range allowed {
		for _, from := range all {
			to, err := findings.Next(from, a)
			want, allowed := ok[from]
			switch {
			case allowed && (err != nil || to != want):
				t.Errorf("%s from %s: got %q, %v; want %s", a, from, to, err, want)
			case !allowed:
				var te *findings.TransitionError
				if !errors.As(err, &te) || te.From != from || te.Action != a {
					t.Errorf("%s from %s: got %q, %v; want a TransitionError", a, from, to, err)
				}
			}
		}
	}
}

func TestMay(t *testing.T) {
	for _, c := range []struct {
		role auth.Role
		may  []findings.Action
	}{
		{auth.RoleSiteManager, []findings.Action{findings.ActAcknowledge, findings.ActRectify}},
		{auth.RoleDuty, []findings.Action{findings.ActEdit, findings.ActWithdraw, findings.ActVerify, findings.ActReopen}},
		{auth.RoleSupervisor, []findings.Action{findings.ActEdit, findings.ActWithdraw, findings.ActVerify, findings.ActReopen}},
		{auth.Role("nobody"), nil},
	} {
		for _, a := range []findings.Action{findings.ActEdit, findings.ActWithdraw, findings.ActVerify, findings.ActReopen, findings.ActAcknowledge, findings.ActRectify} {
			want := false
			for _, m := range c.may {
				want = want || m == a
			}
			if got := findings.May(c.role, a); got != want {
				t.Errorf("May(%s, %s) = %v, want %v", c.role, a, got, want)
			}
		}
	}
}

func TestCreateIsIdempotent(t *testing.T) {
	fs, _ := newStore(t)
	ctx := context.Background()
	f, created, err := fs.Create(ctx, duty, draft("f1"))
	if err != nil || !created || f.Status != findings.StatusOpen {
		t.Fatalf("first create: %v %v %+v", created, err, f)
	}
	// The same content, times in another zone: no change.
	d := draft("f1")
	d.FlaggedAt = d.FlaggedAt.In(time.FixedZone("CST", 8*3600))
	if _, created, err := fs.Create(ctx, duty, d); err != nil || created {
		t.Fatalf("repeat create: created %v, %v", created, err)
	}
	d.Note = "changed"
	if _, _, err := fs.Create(ctx, duty, d); !errors.Is(err, findings.ErrConflict) {
		t.Fatalf("different content: %v, want conflict", err)
	}
	if cur, _ := fs.Cursor(ctx); cur != 1 {
		t.Errorf("cursor %d after one creation, want 1", cur)
	}
}

func TestCreateRejects(t *testing.T) {
	fs, _ := newStore(t)
	for _, c := range []struct {
		name string
		by   auth.Principal
		edit func(*findings.Draft)
		want error
	}{
		{"site manager", manager, func(*findings.Draft) {}, findings.ErrForbidden},
		{"unknown site", duty, func(d *findings.Draft) { d.Site = "nope" }, findings.ErrUnknownSite},
		{"bad severity", duty, func(d *findings.Draft) { d.Severity = "huge" }, findings.ErrInvalid},
		{"no camera", duty, func(d *findings.Draft) { d.Camera = "" }, findings.ErrInvalid},
		{"bad id", duty, func(d *findings.Draft) { d.ID = "../x" }, findings.ErrInvalid},
		{"no deadline", duty, func(d *findings.Draft) { d.Deadline = time.Time{} }, findings.ErrInvalid},
		{"deadline before observation", duty, func(d *findings.Draft) { d.Deadline = d.ObservedAt.Add(-time.Hour) }, findings.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := draft("f-" + strings.ReplaceAll(c.name, " ", "-"))
			c.edit(&d)
			if _, _, err := fs.Create(context.Background(), c.by, d); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if n, _ := fs.Cursor(context.Background()); n != 0 {
		t.Errorf("rejected creations made %d changes", n)
	}
}

func TestLifecycle(t *testing.T) {
	fs, clk := newStore(t)
	ctx := context.Background()
	if _, _, err := fs.Create(ctx, duty, draft("f1")); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(48 * time.Hour)
	sev := "critical"
	steps := []struct {
		by      auth.Principal
		req     findings.Request
		want    error
		status  findings.Status
		overdue bool
	}{
		{other, findings.Request{ActionID: "a0", Action: findings.ActAcknowledge}, findings.ErrNotFound, findings.StatusOpen, false},
		{manager, findings.Request{ActionID: "a1", Action: findings.ActVerify}, findings.ErrForbidden, findings.StatusOpen, false},
		{manager, findings.Request{ActionID: "a2", Action: findings.ActRectify}, &findings.TransitionError{}, findings.StatusOpen, false},
		{duty, findings.Request{ActionID: "a3", Action: findings.ActEdit, Severity: &sev, Note: "worse"}, nil, findings.StatusOpen, false},
		{manager, findings.Request{ActionID: "a4", Action: findings.ActAcknowledge, Severity: &sev}, findings.ErrInvalid, findings.StatusOpen, false},
		{manager, findings.Request{ActionID: "a5", Action: findings.ActAcknowledge, Note: "on it"}, nil, findings.StatusAcknowledged, false},
		{manager, findings.Request{ActionID: "a5", Action: findings.ActAcknowledge, Note: "on it"}, nil, findings.StatusAcknowledged, false},
		{duty, findings.Request{ActionID: "a6", Action: findings.ActEdit, Note: "too late"}, &findings.TransitionError{}, findings.StatusAcknowledged, false},
		{manager, findings.Request{ActionID: "a7", Action: findings.ActRectify, Note: "retrained",
			Photos: []findings.Photo{{ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\nrest")}}}, nil, findings.StatusRectified, false},
		{duty, findings.Request{ActionID: "a8", Action: findings.ActReopen}, findings.ErrInvalid, findings.StatusRectified, false},
		{duty, findings.Request{ActionID: "a9", Action: findings.ActReopen, Deadline: &later, Note: "again"}, nil, findings.StatusReopened, false},
		{manager, findings.Request{ActionID: "a10", Action: findings.ActAcknowledge}, nil, findings.StatusAcknowledged, true},
		{manager, findings.Request{ActionID: "a11", Action: findings.ActRectify}, nil, findings.StatusRectified, true},
		{super, findings.Request{ActionID: "a12", Action: findings.ActVerify}, nil, findings.StatusVerified, false},
		{duty, findings.Request{ActionID: "a13", Action: findings.ActWithdraw}, &findings.TransitionError{}, findings.StatusVerified, false},
	}
	events := 1
	for i, s := range steps {
		if i == 11 {
			clk.t = later.Add(time.Minute) // past the new deadline
		}
		f, err := fs.Act(ctx, s.by, "f1", s.req)
		var te *findings.TransitionError
		switch {
		case s.want == nil && err != nil:
			t.Fatalf("step %d (%s by %s): %v", i, s.req.Action, s.by.Name, err)
		case s.want != nil && errors.As(s.want, &te):
			if !errors.As(err, &te) {
				t.Fatalf("step %d (%s): %v, want a transition error", i, s.req.Action, err)
			}
		case s.want != nil && !errors.Is(err, s.want):
			t.Fatalf("step %d (%s): %v, want %v", i, s.req.Action, err, s.want)
		}
		if s.want == nil && !(i == 6) { // step 6 repeats an action id
			events++
		}
		got, err := fs.Get(ctx, duty, "f1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != s.status || got.Overdue != s.overdue || len(got.Events) != events {
			t.Fatalf("step %d: status %s overdue %v events %d; want %s %v %d", i, got.Status, got.Overdue, len(got.Events), s.status, s.overdue, events)
		}
		if s.want == nil && f.Status != s.status {
			t.Fatalf("step %d: returned status %s", i, f.Status)
		}
	}
	f, _ := fs.Get(ctx, duty, "f1")
	if f.Severity != "critical" || f.Note != "worse" || !f.Deadline.Equal(later) || len(f.Evidence.Photos) != 1 {
		t.Errorf("finding after the lifecycle: %+v", f)
	}
	last := f.Events[len(f.Events)-1]
	if last.Actor != "sup" || last.Role != "supervisor" || last.Action != "verify" || !strings.Contains(string(last.Detail), `"to":"verified"`) {
		t.Errorf("last event %+v", last)
	}
	if _, err := fs.Get(ctx, other, "f1"); !errors.Is(err, findings.ErrNotFound) {
		t.Errorf("another site's manager: %v, want not found", err)
	}
}

func TestListOrderAndFilters(t *testing.T) {
	fs, clk := newStore(t)
	ctx := context.Background()
	for i, c := range []struct {
		id, site string
		deadline time.Duration
	}{{"late", "site-01", time.Hour}, {"soon", "site-01", 30 * time.Minute}, {"done", "site-01", time.Minute}, {"elsewhere", "site-02", time.Hour}} {
		d := draft(c.id)
		d.Site, d.Deadline = c.site, t0.Add(c.deadline)
		if _, _, err := fs.Create(ctx, duty, d); err != nil {
			t.Fatal(i, err)
		}
	}
	if _, err := fs.Act(ctx, duty, "done", findings.Request{ActionID: "w", Action: findings.ActWithdraw}); err != nil {
		t.Fatal(err)
	}
	clk.t = t0.Add(45 * time.Minute)
	ids := func(fs []findings.Finding) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return strings.Join(out, ",")
	}
	yes := true
	for _, c := range []struct {
		by   auth.Principal
		flt  findings.Filter
		want string
	}{
		{duty, findings.Filter{}, "soon,elsewhere,late,done"},
		{manager, findings.Filter{}, "soon,late,done"},
		{other, findings.Filter{Site: "site-01"}, ""},
		{duty, findings.Filter{Overdue: &yes}, "soon"},
		{duty, findings.Filter{Statuses: []findings.Status{findings.StatusWithdrawn}}, "done"},
		{duty, findings.Filter{ClosedSince: t0.Add(time.Minute)}, "soon,elsewhere,late"},
		{duty, findings.Filter{ClosedSince: t0}, "soon,elsewhere,late,done"},
	} {
		got, err := fs.List(ctx, c.by, c.flt)
		if err != nil {
			t.Fatal(err)
		}
		if ids(got) != c.want {
			t.Errorf("%s %+v: %s, want %s", c.by.Name, c.flt, ids(got), c.want)
		}
	}
}

func TestEvidence(t *testing.T) {
	fs, _ := newStore(t)
	ctx := context.Background()
	if _, _, err := fs.Create(ctx, duty, draft("f1")); err != nil {
		t.Fatal(err)
	}
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte("x"), 100)...)
	sum := sha256.Sum256(jpeg)
	hexSum := hex.EncodeToString(sum[:])
	for _, c := range []struct {
		name, kind, ctype, sha string
		body                   []byte
		want                   error
	}{
		{"digest mismatch", "snapshot", "image/jpeg", strings.Repeat("0", 64), jpeg, findings.ErrDigest},
		{"wrong type", "snapshot", "image/png", hexSum, jpeg, findings.ErrContentType},
		{"not a JPEG", "snapshot", "image/jpeg", hexSum, []byte("hello there"), findings.ErrInvalid},
		{"too large", "snapshot", "image/jpeg", hexSum, append(jpeg, make([]byte, findings.MaxSnapshotBytes)...), findings.ErrTooLarge},
		{"unknown kind", "audio", "image/jpeg", hexSum, jpeg, findings.ErrBadEvidence},
	} {
		if _, _, err := fs.PutEvidence(ctx, duty, "f1", c.kind, c.ctype, c.sha, bytes.NewReader(c.body)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, _, err := fs.PutEvidence(ctx, manager, "f1", "snapshot", "image/jpeg", hexSum, bytes.NewReader(jpeg)); !errors.Is(err, findings.ErrForbidden) {
		t.Errorf("site manager sending evidence: %v", err)
	}
	file, created, err := fs.PutEvidence(ctx, duty, "f1", "snapshot", "image/jpeg", hexSum, bytes.NewReader(jpeg))
	if err != nil || !created || file.SHA256 != hexSum || file.Bytes != int64(len(jpeg)) || file.URL != "/api/v1/evidence/f1/snapshot" {
		t.Fatalf("put: %+v %v %v", file, created, err)
	}
	if _, created, err := fs.PutEvidence(ctx, duty, "f1", "snapshot", "image/jpeg", hexSum, bytes.NewReader(jpeg)); err != nil || created {
		t.Fatalf("repeat put: %v %v", created, err)
	}
	fh, _, err := fs.Open(ctx, manager, "f1", "snapshot")
	if err != nil {
		t.Fatal(err)
	}
	fh.Close()
	if _, _, err := fs.Open(ctx, other, "f1", "snapshot"); !errors.Is(err, findings.ErrNotFound) {
		t.Errorf("other site's manager opening evidence: %v", err)
	}
	if cur, _ := fs.Cursor(ctx); cur != 2 {
		t.Errorf("cursor %d, want 2 (created, one evidence)", cur)
	}
	// Another snapshot replaces it, as a change of its own.
	other := append(append([]byte{}, jpeg...), 'y')
	sum2 := sha256.Sum256(other)
	file, created, err = fs.PutEvidence(ctx, duty, "f1", "snapshot", "image/jpeg", hex.EncodeToString(sum2[:]), bytes.NewReader(other))
	if err != nil || !created || file.Bytes != int64(len(other)) {
		t.Fatalf("replacing the snapshot: %+v %v %v", file, created, err)
	}
	if f, _ := fs.Get(ctx, duty, "f1"); f.Evidence.Snapshot.SHA256 != hex.EncodeToString(sum2[:]) || len(f.Events) != 3 {
		t.Errorf("after replacing: %+v, %d events", f.Evidence.Snapshot, len(f.Events))
	}
}

func TestChangesWake(t *testing.T) {
	fs, _ := newStore(t)
	ctx := context.Background()
	ch := fs.Changed()
	go fs.Create(ctx, duty, draft("f1"))
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up within 5 s of a change")
	}
	changes, err := fs.Changes(ctx, 0, 10)
	if err != nil || len(changes) != 1 || changes[0].Cursor != 1 || changes[0].Finding.ID != "f1" || changes[0].Event.Action != "created" {
		t.Fatalf("changes: %+v %v", changes, err)
	}
	if more, _ := fs.Changes(ctx, 1, 10); len(more) != 0 {
		t.Errorf("changes after the newest: %+v", more)
	}
}

func TestEditReplacesNote(t *testing.T) {
	fs, _ := newStore(t)
	ctx := context.Background()
	d := draft("f1")
	d.Note = "first words"
	if _, _, err := fs.Create(ctx, duty, d); err != nil {
		t.Fatal(err)
	}
	for i, note := range []string{"second words", ""} {
		f, err := fs.Act(ctx, duty, "f1", findings.Request{ActionID: fmt.Sprint("edit-", i), Action: findings.ActEdit, Note: note})
		if err != nil || f.Note != note || f.Severity != "major" {
			t.Fatalf("edit %d: note %q severity %q, %v", i, f.Note, f.Severity, err)
		}
	}
}

func TestListManyWithEvidence(t *testing.T) {
	fs, _ := newStore(t)
	ctx := context.Background()
	jpeg := []byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3}
	sum := sha256.Sum256(jpeg)
	const n = 1200 // more than one batch of the evidence query
	for i := range n {
		id := fmt.Sprintf("f%04d", i)
		if _, _, err := fs.Create(ctx, duty, draft(id)); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			if _, _, err := fs.PutEvidence(ctx, duty, id, "snapshot", "image/jpeg", hex.EncodeToString(sum[:]), bytes.NewReader(jpeg)); err != nil {
				t.Fatal(err)
			}
		}
	}
	list, err := fs.List(ctx, duty, findings.Filter{})
	if err != nil || len(list) != n {
		t.Fatalf("%d findings, %v", len(list), err)
	}
	with := 0
	for _, f := range list {
		if f.Evidence.Snapshot != nil {
			with++
		}
	}
	if with != n/100 {
		t.Errorf("%d findings with a snapshot, want %d", with, n/100)
	}
}

// TestSweep: a sweep removes old evidence files no finding refers to and
// leftovers of uploads, and leaves files in use, young files (an upload in
// flight) and files that are not evidence.
func TestSweep(t *testing.T) {
	fs, _ := newStore(t)
	ctx := context.Background()
	jpegOf := func(s string) ([]byte, string) {
		b := append([]byte{0xff, 0xd8, 0xff, 0xe0}, s...)
		sum := sha256.Sum256(b)
		return b, hex.EncodeToString(sum[:])
	}
	put := func(id string, body []byte, sum string) {
		t.Helper()
		if _, _, err := fs.PutEvidence(ctx, duty, id, "snapshot", "image/jpeg", sum, bytes.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"f1", "f2"} {
		if _, _, err := fs.Create(ctx, duty, draft(id)); err != nil {
			t.Fatal(err)
		}
	}
	a, aSum := jpegOf("a")
	b, bSum := jpegOf("b")
	put("f1", a, aSum)
	put("f2", a, aSum) // the same picture, one file
	put("f1", b, bSum) // f1's replaced; f2 still has a

	evidence := fs.Dir()
	_, orphan := jpegOf("orphan")
	_, young := jpegOf("young")
	for _, name := range []string{orphan, young, ".upload-123", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(evidence, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	age := func(names ...string) {
		t.Helper()
		for _, name := range names {
			old := t0.Add(-2 * findings.SweepAge)
			if err := os.Chtimes(filepath.Join(evidence, name), old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	// young keeps its time: the store's clock is t0, before the file's.
	age(aSum, bSum, orphan, ".upload-123", "notes.txt")
	n, err := fs.Sweep(ctx, findings.SweepAge)
	if err != nil || n != 2 {
		t.Fatalf("sweep removed %d (%v), want the orphan and the upload leftover", n, err)
	}
	for name, want := range map[string]bool{aSum: true, bSum: true, orphan: false, young: true, ".upload-123": false, "notes.txt": true} {
		if _, err := os.Stat(filepath.Join(evidence, name)); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", name, err == nil, want)
		}
	}

	// f2 moves on to b: a has no finding left.
	put("f2", b, bSum)
	age(aSum, bSum)
	if n, err := fs.Sweep(ctx, findings.SweepAge); err != nil || n != 1 {
		t.Fatalf("second sweep removed %d (%v), want the replaced picture", n, err)
	}
	if _, err := os.Stat(filepath.Join(evidence, aSum)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("replaced picture still there: %v", err)
	}
	if fh, _, err := fs.Open(ctx, duty, "f2", "snapshot"); err != nil {
		t.Fatalf("f2's snapshot after the sweep: %v", err)
	} else {
		fh.Close()
	}
}
