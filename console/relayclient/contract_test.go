package relayclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// The contract tests run this client against the real relay, in process on
// loopback, so that what the one sends and the other reads cannot drift. A
// token the relay refuses ending the session is TestRevokedTokenEndsSession.

// TestContractSession: sign-in, renewal by refresh, the camera list with
// health and the event stream.
func TestContractSession(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clock := fakeclock.New(time.Now())
	r := relaytest.Start(t, relaytest.Options{Now: clock.Now})
	creds := r.Demo()
	c := signIn(t, r.URL(), creds.User, creds.Password)
	first := c.Session()
	clock.Advance(2 * time.Second) // expiry is to the second
	renewed, err := c.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Token == first.Token || !renewed.ExpiresAt.After(first.ExpiresAt) || renewed.User != first.User {
		t.Fatalf("refresh %+v after %+v", renewed, first)
	}
	cams, err := c.Cameras(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cams) != 12 || cams[0].State != StateOffline || cams[0].Streams == nil {
		t.Fatalf("%d cameras, first %+v", len(cams), cams[0])
	}
	got := make(chan Event, 1)
	ectx, stop := context.WithCancel(ctx)
	defer stop()
	go c.Events(ectx, "", func(ev Event) {
		select {
		case got <- ev:
		default:
		}
	})
	select {
	case ev := <-got:
		var list struct{ Cameras []Camera }
		if err := json.Unmarshal(ev.Data, &list); ev.Name != "cameras" || err != nil || len(list.Cameras) != 12 {
			t.Fatalf("first event %s: %v", ev.Name, err)
		}
	case <-time.After(eventually.Ceiling):
		t.Fatal("no event")
	}
}

// upload is an evidence upload of data.
func upload(kind, contentType string, data []byte) Upload {
	sum := sha256.Sum256(data)
	return Upload{Kind: kind, ContentType: contentType, SHA256: hex.EncodeToString(sum[:]),
		Open: func() (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
		}}
}

// TestContractFindings: a finding filed, its snapshot uploaded, actions by
// the duty officer and the site, the changes feed, and the relay's refusals
// as Errors with their status, code and permanence.
func TestContractFindings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := relaytest.Start(t, relaytest.Options{})
	creds := r.Demo()
	duty := signIn(t, r.URL(), creds.User, creds.Password)
	mgr := signIn(t, r.URL(), creds.Managers[0], creds.ManagerPassword) // site-01's

	cams, err := duty.Cameras(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cam := cams[0]
	if cam.Site != "site-01" {
		t.Fatalf("first camera %s, want one of site-01", cam.Path())
	}
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	d := wire.Draft{ID: "contract-1", Site: cam.Site, Camera: cam.ID, Zone: cam.Zone, TemplateID: "ppe-doffing", TemplateVersion: 1,
		Step: "goggles", Deviation: "wrong_order", DeviationText: "脱卸顺序错误", Severity: "major", Note: "gloves first",
		Observer: creds.User, ObservedAt: at, FlaggedAt: at.Add(time.Second), Deadline: at.Add(48 * time.Hour)}

	f, created, err := duty.FileFinding(ctx, d)
	if err != nil || !created {
		t.Fatalf("filing: created %v, %v", created, err)
	}
	if f.ID != d.ID || f.Site != d.Site || f.Camera != d.Camera || f.DeviationText != d.DeviationText || f.Note != d.Note ||
		!f.ObservedAt.Equal(d.ObservedAt) || !f.Deadline.Equal(d.Deadline) || f.Status != wire.StatusOpen || f.Overdue {
		t.Fatalf("filed %+v, sent %+v", f, d)
	}
	if _, created, err := duty.FileFinding(ctx, d); err != nil || created {
		t.Fatalf("filing again: created %v, %v; want done already", created, err)
	}

	jpeg := append([]byte("\xff\xd8\xff\xe0"), "a snapshot"...)
	snap := upload(wire.EvidenceSnapshot, "image/jpeg", jpeg)
	file, created, err := duty.PutEvidence(ctx, d.ID, snap)
	if err != nil || !created {
		t.Fatalf("uploading the snapshot: created %v, %v", created, err)
	}
	if file.Name != wire.EvidenceSnapshot || file.SHA256 != snap.SHA256 || file.Bytes != int64(len(jpeg)) ||
		file.ContentType != "image/jpeg" || file.URL == "" {
		t.Fatalf("snapshot as the relay lists it: %+v", file)
	}
	if _, created, err := duty.PutEvidence(ctx, d.ID, snap); err != nil || created {
		t.Fatalf("uploading the snapshot again: created %v, %v; want done already", created, err)
	}

	later := d.Deadline.Add(24 * time.Hour)
	severity := "critical"
	edit := wire.ActionRequest{ActionID: "contract-edit", Action: wire.ActEdit, Note: "gloves off first", Severity: &severity, Deadline: &later}
	f, err = duty.Act(ctx, d.ID, edit)
	if err != nil {
		t.Fatal(err)
	}
	if f.Severity != severity || f.Note != edit.Note || !f.Deadline.Equal(later) || f.Status != wire.StatusOpen {
		t.Fatalf("after the edit: %+v", f)
	}
	if again, err := duty.Act(ctx, d.ID, edit); err != nil || !again.UpdatedAt.Equal(f.UpdatedAt) {
		t.Fatalf("the same action again: %v, updated %v then %v", err, f.UpdatedAt, again.UpdatedAt)
	}
	if f, err = mgr.Act(ctx, d.ID, wire.ActionRequest{ActionID: "contract-ack", Action: wire.ActAcknowledge, Note: "on it"}); err != nil {
		t.Fatal(err)
	}
	if f.Status != wire.StatusAcknowledged {
		t.Fatalf("acknowledged finding is %s", f.Status)
	}

	f, err = duty.Finding(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f.Evidence.Snapshot == nil || f.Evidence.Snapshot.SHA256 != snap.SHA256 || f.Evidence.Clip != nil || f.Status != wire.StatusAcknowledged {
		t.Fatalf("read back: %+v", f)
	}

	changes, err := duty.Changes(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	var cursor int64
	for _, ch := range changes.Changes {
		if ch.Cursor <= cursor || ch.Event.Cursor != ch.Cursor || ch.Finding.ID != d.ID {
			t.Fatalf("change %+v after cursor %d", ch, cursor)
		}
		cursor = ch.Cursor
		seen = append(seen, ch.Event.Role+":"+ch.Event.Action)
	}
	if got, want := strings.Join(seen, " "), "duty:created duty:evidence duty:edit site_manager:acknowledge"; got != want {
		t.Fatalf("changes %q, want %q", got, want)
	}
	if last := changes.Changes[len(changes.Changes)-1]; changes.Cursor != cursor || last.Finding.Status != wire.StatusAcknowledged {
		t.Fatalf("answer cursor %d after changes to %d; last finding %s", changes.Cursor, cursor, last.Finding.Status)
	}
	var note struct{ Note string }
	if err := json.Unmarshal(changes.Changes[3].Event.Detail, &note); err != nil || note.Note != "on it" {
		t.Fatalf("acknowledgement's detail %s: %v", changes.Changes[3].Event.Detail, err)
	}
	if none, err := duty.Changes(ctx, cursor, 0); err != nil || len(none.Changes) != 0 || none.Cursor != cursor {
		t.Fatalf("changes after the last: %+v, %v", none, err)
	}
	// A long poll answers with the change it waited for.
	polled := make(chan wire.Changes, 1)
	go func() {
		ch, err := duty.Changes(ctx, cursor, 20*time.Second)
		if err != nil {
			t.Error(err)
		}
		polled <- ch
	}()
	if _, err := mgr.Act(ctx, d.ID, wire.ActionRequest{ActionID: "contract-fix", Action: wire.ActRectify, Note: "retrained"}); err != nil {
		t.Fatal(err)
	}
	if ch := <-polled; len(ch.Changes) != 1 || ch.Changes[0].Event.Action != string(wire.ActRectify) || ch.Changes[0].Finding.Status != wire.StatusRectified {
		t.Fatalf("long poll answered %+v", ch)
	}

	other := d
	other.Note = "another note"
	unknownSite := d
	unknownSite.ID, unknownSite.Site = "contract-2", "site-99"
	badSeverity := d
	badSeverity.ID, badSeverity.Severity = "contract-3", "extreme"
	badDigest := snap
	badDigest.SHA256 = strings.Repeat("0", 64)
	cases := []struct {
		name      string
		call      func() error
		status    int
		code      string
		permanent bool
	}{
		{"unknown finding", func() error { _, err := duty.Finding(ctx, "no-such-finding"); return err },
			http.StatusNotFound, "unknown_finding", true},
		{"unknown site", func() error { _, _, err := duty.FileFinding(ctx, unknownSite); return err },
			http.StatusNotFound, "unknown_site", true},
		{"same id, other content", func() error { _, _, err := duty.FileFinding(ctx, other); return err },
			http.StatusConflict, "conflict", true},
		{"a field's value", func() error { _, _, err := duty.FileFinding(ctx, badSeverity); return err },
			http.StatusUnprocessableEntity, "invalid_field", true},
		{"a site manager filing", func() error { _, _, err := mgr.FileFinding(ctx, badSeverity); return err },
			http.StatusForbidden, "forbidden", true},
		{"an action the status does not allow", func() error {
			_, err := duty.Act(ctx, d.ID, wire.ActionRequest{ActionID: "contract-late-edit", Action: wire.ActEdit})
			return err
		}, http.StatusConflict, "bad_transition", true},
		{"an action not the role's", func() error {
			_, err := mgr.Act(ctx, d.ID, wire.ActionRequest{ActionID: "contract-verify", Action: wire.ActVerify})
			return err
		}, http.StatusForbidden, "forbidden", true},
		{"digest mismatch", func() error { _, _, err := duty.PutEvidence(ctx, d.ID, badDigest); return err },
			http.StatusBadRequest, "digest_mismatch", true},
		{"a snapshot sent as PNG", func() error {
			_, _, err := duty.PutEvidence(ctx, d.ID, upload(wire.EvidenceSnapshot, "image/png", jpeg))
			return err
		}, http.StatusUnsupportedMediaType, "bad_content_type", true},
		{"unknown evidence", func() error {
			_, _, err := duty.PutEvidence(ctx, d.ID, upload("audio", "image/jpeg", jpeg))
			return err
		}, http.StatusNotFound, "unknown_evidence", true},
		// A relay without a findings API answers as for any unknown route:
		// waited for, not refused.
		{"no such endpoint", func() error {
			return duty.findingsCallErr(ctx, findingsCall{method: http.MethodGet, path: "/api/v1/no-such-api", timeout: time.Minute})
		}, http.StatusNotFound, "not_found", false},
		{"a method the endpoint does not take", func() error {
			return duty.findingsCallErr(ctx, findingsCall{method: http.MethodDelete, path: findingPath(d.ID), timeout: time.Minute})
		}, http.StatusMethodNotAllowed, "method_not_allowed", false},
		{"wrong password", func() error {
			c, err := New(r.URL(), Options{})
			if err != nil {
				return err
			}
			_, err = c.Login(ctx, creds.User, "not the password")
			return err
		}, http.StatusUnauthorized, "unauthorized", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			var rerr *Error
			if !errors.As(err, &rerr) {
				t.Fatalf("%v, want the relay's %d %s", err, c.status, c.code)
			}
			if rerr.Status != c.status || rerr.Code != c.code || rerr.Message == "" {
				t.Fatalf("%d %s %q, want %d %s with a message", rerr.Status, rerr.Code, rerr.Message, c.status, c.code)
			}
			if Permanent(err) != c.permanent {
				t.Fatalf("%v: permanent %v, want %v", err, !c.permanent, c.permanent)
			}
		})
	}
}

// findingsCallErr makes a findings call whose answer is not wanted.
func (c *Client) findingsCallErr(ctx context.Context, fc findingsCall) error {
	var out json.RawMessage
	_, err := c.findings(ctx, fc, &out)
	return err
}

// TestContractFindingTitle: a draft carries the catalogue's words in each
// language and reads back with them; a draft without them (a console that
// predates them, or free text) is filed and reads as typed; a language the
// product does not speak is refused for what it is.
func TestContractFindingTitle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := relaytest.Start(t, relaytest.Options{})
	creds := r.Demo()
	duty := signIn(t, r.URL(), creds.User, creds.Password)
	cams, err := duty.Cameras(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cam := cams[0]
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	for _, c := range []struct {
		id     string
		title  map[string]string
		status int
	}{
		{"title-both", map[string]string{"zh-CN": "脱卸顺序错误", "en": "Wrong doffing order"}, 0},
		{"title-none", nil, 0},
		{"title-klingon", map[string]string{"tlh": "Qagh"}, http.StatusUnprocessableEntity},
	} {
		t.Run(c.id, func(t *testing.T) {
			d := wire.Draft{ID: c.id, Site: cam.Site, Camera: cam.ID, Zone: cam.Zone, TemplateID: "ppe-doffing", TemplateVersion: 1,
				Step: "goggles", Deviation: "wrong_order", DeviationText: "脱卸顺序错误", DeviationTitle: c.title, Severity: "major",
				Observer: creds.User, ObservedAt: at, FlaggedAt: at.Add(time.Second), Deadline: at.Add(48 * time.Hour)}
			_, _, err := duty.FileFinding(ctx, d)
			if c.status != 0 {
				var e *Error
				if !errors.As(err, &e) || e.Status != c.status || !strings.Contains(e.Message, "deviation_title") {
					t.Fatalf("filing: %v, want %d naming deviation_title", err, c.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("filing: %v", err)
			}
			f, err := duty.Finding(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.DeviationTitle) != len(c.title) || f.DeviationTitle["en"] != c.title["en"] || f.DeviationTitle["zh-CN"] != c.title["zh-CN"] ||
				f.DeviationText != d.DeviationText {
				t.Errorf("read back %q %v, filed %q %v", f.DeviationText, f.DeviationTitle, d.DeviationText, c.title)
			}
		})
	}
}

// TestContractSharedFindings: the calls of the duty room's shared record
// (issue 11 §1): the relay's list of findings, an evidence file fetched by
// its name and checked against its digest, and a re-check's snapshot
// attached to the verify it documents; and their refusals.
func TestContractSharedFindings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := relaytest.Start(t, relaytest.Options{})
	creds := r.Demo()
	duty := signIn(t, r.URL(), creds.User, creds.Password)
	mgr := signIn(t, r.URL(), creds.Managers[0], creds.ManagerPassword)
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	d := wire.Draft{ID: "shared-1", Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", TemplateID: "ppe-doffing", TemplateVersion: 1,
		Step: "goggles", Deviation: "wrong_order", DeviationText: "脱卸顺序错误", Severity: "major",
		Observer: creds.User, ObservedAt: at, FlaggedAt: at.Add(time.Second), Deadline: at.Add(48 * time.Hour)}
	if _, _, err := duty.FileFinding(ctx, d); err != nil {
		t.Fatal(err)
	}
	jpeg := append([]byte("\xff\xd8\xff\xe0"), "a snapshot"...)
	snap := upload(wire.EvidenceSnapshot, "image/jpeg", jpeg)
	if _, _, err := duty.PutEvidence(ctx, d.ID, snap); err != nil {
		t.Fatal(err)
	}

	list, err := duty.ListFindings(ctx, time.Time{})
	if err != nil || len(list) != 1 || list[0].ID != d.ID || list[0].Evidence.Snapshot == nil || list[0].Evidence.Snapshot.SHA256 != snap.SHA256 {
		t.Fatalf("the relay's list: %+v, %v", list, err)
	}
	got, err := duty.EvidenceFile(ctx, d.ID, wire.EvidenceSnapshot, snap.SHA256)
	if err != nil || !bytes.Equal(got, jpeg) {
		t.Fatalf("fetching the snapshot: %q, %v", got, err)
	}
	if _, err := duty.EvidenceFile(ctx, d.ID, wire.EvidenceSnapshot, strings.Repeat("0", 64)); err == nil {
		t.Fatal("a file whose digest is not the list's was taken")
	}

	for _, a := range []wire.ActionRequest{{ActionID: "shared-ack", Action: wire.ActAcknowledge}, {ActionID: "shared-fix", Action: wire.ActRectify, Note: "done"}} {
		if _, err := mgr.Act(ctx, d.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := duty.Act(ctx, d.ID, wire.ActionRequest{ActionID: "shared-verify", Action: wire.ActVerify, Note: "re-checked"}); err != nil {
		t.Fatal(err)
	}
	shot := append([]byte("\xff\xd8\xff\xe0"), "the re-check"...)
	file, created, err := duty.PutRecheck(ctx, d.ID, "shared-verify", upload(wire.EvidenceRecheck, "image/jpeg", shot))
	if err != nil || !created || !strings.HasPrefix(file.Name, wire.EvidenceRecheck+"-") || file.URL == "" {
		t.Fatalf("the re-check snapshot: %+v %v %v", file, created, err)
	}
	if _, created, err := duty.PutRecheck(ctx, d.ID, "shared-verify", upload(wire.EvidenceRecheck, "image/jpeg", shot)); err != nil || created {
		t.Fatalf("the re-check snapshot again: created %v, %v; want done already", created, err)
	}
	f, err := duty.Finding(ctx, d.ID)
	if err != nil || len(f.Evidence.Rechecks) != 1 || f.Evidence.Rechecks[0].Name != file.Name {
		t.Fatalf("read back: %+v, %v", f.Evidence, err)
	}
	if got, err := duty.EvidenceFile(ctx, d.ID, file.Name, file.SHA256); err != nil || !bytes.Equal(got, shot) {
		t.Fatalf("fetching the re-check snapshot: %v", err)
	}
	// A first listing takes the closed findings of the last days only: the
	// verified one is in a list of those closed since an hour ago, not in
	// one of those closed since an hour from now.
	for _, c := range []struct {
		since time.Time
		want  int
	}{{time.Now().Add(-time.Hour), 1}, {time.Now().Add(time.Hour), 0}} {
		if list, err := duty.ListFindings(ctx, c.since); err != nil || len(list) != c.want {
			t.Errorf("closed since %v: %d findings (%v), want %d", c.since, len(list), err, c.want)
		}
	}

	for _, c := range []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"a re-check snapshot of an action that is no re-check", func() error {
			_, _, err := duty.PutRecheck(ctx, d.ID, "shared-fix", upload(wire.EvidenceRecheck, "image/jpeg", shot))
			return err
		}, http.StatusUnprocessableEntity, "invalid_field"},
		{"a re-check snapshot of no action", func() error {
			_, _, err := duty.PutRecheck(ctx, d.ID, "", upload(wire.EvidenceRecheck, "image/jpeg", shot))
			return err
		}, http.StatusUnprocessableEntity, "invalid_field"},
		{"a site manager's re-check snapshot", func() error {
			_, _, err := mgr.PutRecheck(ctx, d.ID, "shared-verify", upload(wire.EvidenceRecheck, "image/jpeg", shot))
			return err
		}, http.StatusForbidden, "forbidden"},
		{"an evidence file the finding does not have", func() error {
			_, err := duty.EvidenceFile(ctx, d.ID, "photo-9", snap.SHA256)
			return err
		}, http.StatusNotFound, "unknown_evidence"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var rerr *Error
			if err := c.call(); !errors.As(err, &rerr) || rerr.Status != c.status || rerr.Code != c.code {
				t.Fatalf("%v, want the relay's %d %s", err, c.status, c.code)
			}
		})
	}
}
