package forward

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// otherOfficer is a second duty officer at the relay, with password: the
// next shift's, on another console.
const otherOfficer, otherPassword = "wang", "wang-password"

func twoOfficers(t *testing.T) *relaytest.Relay {
	t.Helper()
	return relaytest.Start(t, relaytest.Options{Config: relaytest.UsersConfig(t, relaytest.User{Name: otherOfficer, Role: "duty", Password: otherPassword})})
}

// fileElsewhere files a finding at the relay as another console does: the
// draft, then its snapshot.
func fileElsewhere(t *testing.T, c *relayclient.Client, seed int) wire.Finding {
	t.Helper()
	ctx := context.Background()
	fl := flagNumber(seed, false)
	d := wire.Draft{ID: fmt.Sprintf("0193a000-0000-7000-8000-%012d", seed), Site: fl.Site, Camera: fl.Camera, Zone: fl.Zone,
		TemplateID: fl.TemplateID, TemplateVersion: fl.TemplateVersion, Step: fl.Step, Deviation: fl.Deviation,
		DeviationText: fl.DeviationText, Severity: fl.Severity, Observer: c.User().Name, ObservedAt: fl.ObservedAt,
		FlaggedAt: fl.ObservedAt.Add(time.Second), Deadline: fl.Deadline}
	if _, _, err := c.FileFinding(ctx, d); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(fl.Snapshot)
	if _, _, err := c.PutEvidence(ctx, d.ID, relayclient.Upload{Kind: wire.EvidenceSnapshot, ContentType: "image/jpeg",
		SHA256: hex.EncodeToString(sum[:]), Open: func() (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(fl.Snapshot)), int64(len(fl.Snapshot)), nil
		}}); err != nil {
		t.Fatal(err)
	}
	f, _ := finding(t, c, d.ID)
	return f
}

var formField = regexp.MustCompile(`name="(csrf|action_id)" value="([^"]*)"`)

// siteRectifies has the site's manager acknowledge and rectify finding id
// on the site page, with photo, as a phone does.
func siteRectifies(t *testing.T, r *relaytest.Relay, id string, photo []byte) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	fields := func(path string) map[string]string {
		resp, err := hc.Get(r.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		out := map[string]string{}
		for _, m := range formField.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = m[2]
		}
		return out
	}
	post := func(path, ctype string, body io.Reader) {
		resp, err := hc.Post(r.URL()+path, ctype, body)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
	login := fields("/site/login")
	post("/site/login", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"csrf": {login["csrf"]},
		"user": {r.Demo().Managers[0]}, "password": {r.Demo().ManagerPassword}}.Encode()))
	f := fields("/site/findings/" + id)
	post("/site/findings/"+id+"/acknowledge", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"csrf": {f["csrf"]}, "action_id": {f["action_id"]}}.Encode()))
	f = fields("/site/findings/" + id)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", f["csrf"])
	mw.WriteField("action_id", f["action_id"])
	mw.WriteField("note", "已重新培训保洁员")
	w, _ := mw.CreateFormFile("photos", "fix.jpg")
	w.Write(photo)
	mw.Close()
	post("/site/findings/"+id+"/rectify", mw.FormDataContentType(), &buf)
}

func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// A finding another console filed at the relay is kept by this one with
// its history and evidence list; the site's rectification and photo come
// to it; the officer here verifies it with the frame they re-checked on,
// which reaches the relay once, attached to their verify; with the relay
// gone the copy stays, marked as of when it was last heard.
func TestAnotherConsolesFindingIsSharedAndVerifiedHere(t *testing.T) {
	ctx := context.Background()
	tr := twoOfficers(t)
	a := asDuty(t, tr)
	b := relayclienttest.SignedIn(t, tr.URL(), otherOfficer, otherPassword)
	st := openStore(t)
	runForwarder(t, st, b, Options{})
	var wholeLists atomic.Int32 // OnChange told, with no ids, that the feed came or went
	runConsumerWith(t, ConsumerOptions{Store: st, Relay: b, Self: otherOfficer, OnChange: func(ids []string) {
		if len(ids) == 0 {
			wholeLists.Add(1)
		}
	}})

	f := fileElsewhere(t, a, 1)
	photo := smallJPEG(99)
	siteRectifies(t, tr, f.ID, photo)
	var got store.Finding
	eventually.True(t, eventually.Ceiling, "the other console's finding kept here, rectified, with the site's photo", func() bool {
		got, _ = st.Get(ctx, f.ID)
		return got.Status == "rectified" && len(got.Photos) == 1
	})
	if got.Origin != store.OriginRelay || got.Observer != a.User().Name || got.StatusNote != "已重新培训保洁员" {
		t.Errorf("the copy: origin %q, observer %q, status note %q", got.Origin, got.Observer, got.StatusNote)
	}
	if got.Snapshot == nil || got.Snapshot.SHA256 != f.Evidence.Snapshot.SHA256 || got.Photos[0].SHA256 != sumOf(photo) {
		t.Errorf("the copy's evidence: snapshot %+v, photos %+v", got.Snapshot, got.Photos)
	}
	if got.Forward == nil || got.Forward.State != store.ForwardForwarded {
		t.Errorf("the copy's forward state %+v: the relay has it", got.Forward)
	}
	if h := history(t, st, f.ID); !strings.Contains(h, "duty:created") || !strings.Contains(h, ":rectify") {
		t.Errorf("the copy's history %q: the relay's whole history", h)
	}
	listed, err := st.Query(ctx, store.Filter{Statuses: []string{"rectified"}})
	if err != nil || len(listed) != 1 || listed[0].ID != f.ID {
		t.Fatalf("awaiting re-check here: %d, %v", len(listed), err)
	}
	// The photo, fetched with this console's token, is kept by its hash.
	id, rf, err := st.RelayFileOf(ctx, got.Photos[0].File)
	if err != nil || id != f.ID {
		t.Fatalf("the photo's file: %s %v", id, err)
	}
	data, err := b.EvidenceFile(ctx, id, rf.Name, rf.SHA256)
	if err != nil || !bytes.Equal(data, photo) {
		t.Fatalf("fetching the photo: %d bytes, %v", len(data), err)
	}
	if err := st.KeepRelayFile(rf, data); err != nil {
		t.Fatal(err)
	}

	// Officer B verifies on the frame they see.
	snap := smallJPEG(7)
	if _, err := st.VerifyWith(ctx, f.ID, otherOfficer, "复核无误", &store.RecheckSnapshot{JPEG: snap, Width: 32, Height: 18}); err != nil {
		t.Fatal(err)
	}
	var rel wire.Finding
	eventually.True(t, eventually.Ceiling, "the verify and its snapshot at the relay", func() bool {
		rel, _ = finding(t, a, f.ID)
		return rel.Status == wire.StatusVerified && len(rel.Evidence.Rechecks) == 1
	})
	if rel.Evidence.Rechecks[0].SHA256 != sumOf(snap) {
		t.Errorf("the relay's re-check snapshot %+v", rel.Evidence.Rechecks[0])
	}
	verifies, evidence := 0, 0
	for _, e := range rel.Events {
		switch {
		case e.Action == "verify":
			verifies++
			if e.Actor != otherOfficer || rel.Evidence.Rechecks[0].Name != wire.RecheckName(e.Cursor) {
				t.Errorf("the verify %+v and its snapshot %s", e, rel.Evidence.Rechecks[0].Name)
			}
		case e.Action == "evidence" && bytes.Contains(e.Detail, []byte(`"recheck"`)):
			evidence++
		}
	}
	if verifies != 1 || evidence != 1 {
		t.Errorf("%d verifies and %d re-check snapshots at the relay, want one each", verifies, evidence)
	}
	eventually.True(t, eventually.Ceiling, "everything sent", func() bool { return pending(t, st) == 0 })
	// The verify coming back is the one made here, not a second one.
	eventually.True(t, eventually.Ceiling, "the relay's re-check snapshot listed here", func() bool {
		got, _ = st.Get(ctx, f.ID)
		return len(got.Rechecks) == 1 && strings.Contains(history(t, st, f.ID), "evidence")
	})
	if h := history(t, st, f.ID); strings.Count(h, otherOfficer+":verif") != 1 {
		t.Errorf("history %q: the verify once", h)
	}
	if got.Rechecks[0].Actor != otherOfficer || got.Rechecks[0].SHA256 != sumOf(snap) {
		t.Errorf("the re-check here %+v", got.Rechecks[0])
	}

	// Offline: the copy stays, as of the last answer.
	fr, _ := st.Freshness(ctx, b.BaseURL())
	if !fr.Reachable || fr.AsOf.IsZero() {
		t.Fatalf("freshness with the relay up: %+v", fr)
	}
	if n := wholeLists.Load(); n != 0 {
		t.Fatalf("told %d times that the feed came or went, with the relay up all along", n)
	}
	tr.Stop(t)
	eventually.True(t, eventually.Ceiling, "the relay's loss noticed, and the view told", func() bool {
		fr, _ = st.Freshness(ctx, b.BaseURL())
		return !fr.Reachable && wholeLists.Load() == 1
	})
	if fr.AsOf.IsZero() {
		t.Errorf("offline freshness %+v: the time last heard", fr)
	}
	if got, err := st.Get(ctx, f.ID); err != nil || got.Status != "verified" {
		t.Errorf("the copy offline: %s %v", got.Status, err)
	}
	tr.Resume(t)
}

// A console whose changes cursor is already past a finding (it followed
// the relay before it kept copies) lists the relay's findings once.
func TestBackfillListsWhatExists(t *testing.T) {
	ctx := context.Background()
	tr := twoOfficers(t)
	a := asDuty(t, tr)
	f := fileElsewhere(t, a, 2)
	b := relayclienttest.SignedIn(t, tr.URL(), otherOfficer, otherPassword)
	st := openStore(t)
	ch, err := b.Changes(ctx, 0, time.Millisecond)
	if err != nil || len(ch.Changes) == 0 {
		t.Fatalf("the relay's changes: %v", err)
	}
	if _, err := st.ApplyRelayChanges(ctx, b.BaseURL(), ch.Cursor, nil); err != nil {
		t.Fatal(err)
	}
	runConsumer(t, st, b, otherOfficer)
	eventually.True(t, eventually.Ceiling, "the finding listed", func() bool {
		got, err := st.Get(ctx, f.ID)
		return err == nil && got.Origin == store.OriginRelay && got.Snapshot != nil
	})
	if h := history(t, st, f.ID); !strings.Contains(h, "created") {
		t.Errorf("history of an open finding listed: %q", h)
	}
	if done, _ := st.Backfilled(ctx, b.BaseURL()); !done {
		t.Error("the list is not recorded as taken")
	}
}
