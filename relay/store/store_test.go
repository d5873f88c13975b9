package store

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relay.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestMigrationsApplyOnceWithWALAndForeignKeys(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	ms, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations %v, %v", ms, err)
	}
	want := len(ms) // numbered 1, 2, … without gaps
	if v, err := s.SchemaVersion(ctx); err != nil || v != want {
		t.Fatalf("schema version %d (%v), want %d", v, err, want)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q (%v), want wal", mode, err)
	}
	var fk int
	if err := s.db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys %d (%v), want 1", fk, err)
	}
	for _, table := range []string{"sites", "cameras", "users", "user_sites", "publish_tokens", "whep_sessions"} {
		if _, err := s.db.ExecContext(ctx, `SELECT count(*) FROM `+table); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
	if err := s.PutSite(ctx, Site{ID: "site-01", TimeZone: "Asia/Shanghai"}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopening applies nothing twice and keeps the data.
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer s2.Close()
	var applied int
	if err := s2.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&applied); err != nil || applied != len(ms) {
		t.Fatalf("%d migrations recorded (%v), want %d", applied, err, len(ms))
	}
	if sites, err := s2.Sites(ctx); err != nil || len(sites) != 1 {
		t.Fatalf("sites after reopen: %v, %v", sites, err)
	}
}

func TestOpenFailsOnUnwritablePath(t *testing.T) {
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "missing", "dir", "relay.db")); err == nil {
		t.Fatal("opened a database in a missing directory")
	}
}

func TestSitesAndCameras(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	site := Site{ID: "site-01", District: bilingual.New("东城区", "Dongcheng District"), Name: bilingual.New("东湖宾馆隔离点", "Donghu Hotel isolation site"), TimeZone: "Asia/Shanghai", Kind: "hotel"}
	cams := []Camera{
		{ID: "gate", Zone: "entrance", Name: bilingual.New("场所出入口", "Entrance")},
		{ID: "doff1", Zone: "doffing_room_1", Name: bilingual.New("一脱间", "Doffing room 1")},
	}
	if err := s.PutSite(ctx, site, cams); err != nil {
		t.Fatal(err)
	}
	got, err := s.Cameras(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Configured order, not alphabetical.
	if len(got) != 2 || got[0].ID != "gate" || got[1].ID != "doff1" || got[1].Site != "site-01" || got[1].Name[bilingual.ZH] != "一脱间" {
		t.Fatalf("cameras %+v", got)
	}
	sites, err := s.Sites(ctx)
	if err != nil || len(sites) != 1 || !reflect.DeepEqual(sites[0], site) {
		t.Fatalf("sites %+v, %v", sites, err)
	}

	// Putting the site again replaces its cameras.
	site.Name = bilingual.New(site.Name[bilingual.ZH], "Renamed")
	if err := s.PutSite(ctx, site, cams[1:]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Camera(ctx, "site-01", "gate"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed camera: %v", err)
	}
	c, err := s.Camera(ctx, "site-01", "doff1")
	if err != nil || c.Zone != "doffing_room_1" {
		t.Fatalf("camera %+v, %v", c, err)
	}
	if sites, _ := s.Sites(ctx); sites[0].Name[bilingual.EN] != "Renamed" {
		t.Fatalf("site not updated: %+v", sites[0])
	}
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, id := range []string{"site-01", "site-02"} {
		if err := s.PutSite(ctx, Site{ID: id, TimeZone: "Asia/Shanghai"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		user    User
		wantErr bool
	}{
		{"duty", User{Name: "duty", Role: "duty", PasswordHash: "h1"}, false},
		{"site manager", User{Name: "mgr", Role: "site_manager", PasswordHash: "h2", Sites: []string{"site-02", "site-01"}}, false},
		{"disabled admin", User{Name: "root", Role: "admin", PasswordHash: "h3", Disabled: true}, false},
		{"unknown role", User{Name: "eve", Role: "superuser", PasswordHash: "h"}, true},
		{"unknown site", User{Name: "mgr2", Role: "site_manager", PasswordHash: "h", Sites: []string{"site-99"}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.PutUser(ctx, c.user)
			if c.wantErr {
				if err == nil {
					t.Fatal("saved")
				}
				if _, err := s.User(ctx, c.user.Name); !errors.Is(err, ErrNotFound) {
					t.Fatalf("failed save left a user behind: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.User(ctx, c.user.Name)
			if err != nil {
				t.Fatal(err)
			}
			if got.Role != c.user.Role || got.PasswordHash != c.user.PasswordHash || got.Disabled != c.user.Disabled ||
				len(got.Sites) != len(c.user.Sites) || got.CreatedAt.IsZero() {
				t.Fatalf("got %+v, want %+v", got, c.user)
			}
		})
	}
	if err := s.SetPassword(ctx, "duty", "h9"); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.User(ctx, "duty"); u.PasswordHash != "h9" {
		t.Fatalf("password hash %q", u.PasswordHash)
	}
	if err := s.SetPassword(ctx, "nobody", "h"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("password of unknown user: %v", err)
	}
}

func TestPublishTokens(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if err := s.PutSite(ctx, Site{ID: "site-01", TimeZone: "UTC"}, nil); err != nil {
		t.Fatal(err)
	}
	a, b, c := []byte("hash-a"), []byte("hash-b"), []byte("hash-c")
	if err := s.SetPublishTokens(ctx, "site-01", "config", [][]byte{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPublishTokens(ctx, "site-01", "demo", [][]byte{c}); err != nil {
		t.Fatal(err)
	}
	// Refreshing one label leaves the other alone.
	if err := s.SetPublishTokens(ctx, "site-01", "config", [][]byte{b}); err != nil {
		t.Fatal(err)
	}
	got, err := s.PublishTokenHashes(ctx, "site-01")
	if err != nil {
		t.Fatal(err)
	}
	has := func(h []byte) bool {
		for _, g := range got {
			if bytes.Equal(g, h) {
				return true
			}
		}
		return false
	}
	if len(got) != 2 || !has(b) || !has(c) || has(a) {
		t.Fatalf("tokens %q", got)
	}
	if err := s.SetPublishTokens(ctx, "site-99", "config", [][]byte{a}); err == nil {
		t.Fatal("token saved for an unknown site")
	}
}

func TestWHEPSessions(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b"} {
		w := WHEPSession{ID: id, User: "duty", Site: "site-01", Camera: "doff1", RequestedStream: "sub", Stream: "main", Remote: "10.0.0.7", Started: t0.Add(time.Duration(i) * time.Minute)}
		if err := s.StartWHEPSession(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.EndWHEPSession(ctx, "a", t0.Add(5*time.Minute), "deleted"); err != nil {
		t.Fatal(err)
	}
	// Ending twice keeps the first end.
	if err := s.EndWHEPSession(ctx, "a", t0.Add(9*time.Minute), "again"); err != nil {
		t.Fatal(err)
	}
	n, err := s.EndOpenWHEPSessions(ctx, t0.Add(time.Hour), "relay restarted")
	if err != nil || n != 1 {
		t.Fatalf("closed %d open sessions (%v), want 1", n, err)
	}
	got, err := s.WHEPSessions(ctx, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("sessions %+v, %v", got, err)
	}
	b, a := got[0], got[1] // most recent first
	if a.ID != "a" || !a.Ended.Equal(t0.Add(5*time.Minute)) || a.EndReason != "deleted" || a.Stream != "main" || a.RequestedStream != "sub" || a.Remote != "10.0.0.7" {
		t.Fatalf("session a %+v", a)
	}
	if b.ID != "b" || !b.Ended.Equal(t0.Add(time.Hour)) || b.EndReason != "relay restarted" || !b.Started.Equal(t0.Add(time.Minute)) {
		t.Fatalf("session b %+v", b)
	}
	if err := s.StartWHEPSession(ctx, WHEPSession{ID: "a", Started: t0}); err == nil {
		t.Fatal("duplicate session id recorded")
	}
}

func TestCameraSourcesAndPutCamera(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	site := Site{ID: "site-01", TimeZone: "Asia/Shanghai"}
	main := Source{Stream: "main", URL: "rtsp://admin:pw@10.0.0.5/ch1", Transport: "tcp"}
	sub := Source{Stream: "sub", URL: "rtsp://admin:pw@10.0.0.5/ch2"}
	cams := []Camera{
		{ID: "gate", Zone: "entrance", Sources: []Source{sub, main}},
		{ID: "doff1", Zone: "doffing_room_1"},
	}
	if err := s.PutSite(ctx, site, cams); err != nil {
		t.Fatal(err)
	}
	got, err := s.CameraSources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []CameraSource{{"site-01", "gate", main}, {"site-01", "gate", sub}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("sources %+v, want %+v", got, want)
	}

	// A camera added on its own goes last; updating one keeps its place
	// and replaces its sources.
	if err := s.PutCamera(ctx, Camera{Site: "site-01", ID: "waste", Zone: "waste_point", Sources: []Source{main}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCamera(ctx, Camera{Site: "site-01", ID: "gate", Zone: "entrance_2"}); err != nil {
		t.Fatal(err)
	}
	list, _ := s.Cameras(ctx)
	if len(list) != 3 || list[0].ID != "gate" || list[0].Zone != "entrance_2" || list[2].ID != "waste" {
		t.Fatalf("cameras %+v", list)
	}
	got, _ = s.CameraSources(ctx)
	if len(got) != 1 || got[0].Camera != "waste" {
		t.Fatalf("sources after updates %+v", got)
	}
	if err := s.PutCamera(ctx, Camera{Site: "site-09", ID: "x", Zone: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("camera of an unknown site: %v", err)
	}
	bad := Camera{Site: "site-01", ID: "y", Zone: "y", Sources: []Source{{Stream: "hd", URL: "rtsp://u:secret@h/x"}}}
	if err := s.PutCamera(ctx, bad); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("bad stream name: %v", err)
	}

	// Replacing the site's cameras drops the sources of those removed;
	// changing the site alone keeps them.
	if err := s.PutSiteInfo(ctx, Site{ID: "site-01", TimeZone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.CameraSources(ctx); len(got) != 1 {
		t.Fatalf("PutSiteInfo touched the sources: %+v", got)
	}
	if err := s.PutSite(ctx, site, cams[1:]); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.CameraSources(ctx); len(got) != 0 {
		t.Fatalf("sources of removed cameras remain: %+v", got)
	}
}

func TestUsersListAndDisable(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if err := s.PutSite(ctx, Site{ID: "site-01", TimeZone: "UTC"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, u := range []User{{Name: "zhao", Role: "duty"}, {Name: "li", Role: "site_manager", Sites: []string{"site-01"}}} {
		if err := s.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetDisabled(ctx, "zhao", true); err != nil {
		t.Fatal(err)
	}
	users, err := s.Users(ctx)
	if err != nil || len(users) != 2 || users[0].Name != "li" || users[0].Sites[0] != "site-01" || !users[1].Disabled {
		t.Fatalf("users %+v, %v", users, err)
	}
	if err := s.SetDisabled(ctx, "nobody", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disabling an unknown user: %v", err)
	}
}
