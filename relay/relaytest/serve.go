package relaytest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/auth"
)

// Serve starts a bare relay as opts say, with no camera publishing: on
// 127.0.0.1 in a fresh data directory unless opts name others, logging
// warnings to the test unless opts give a logger. It is closed when the
// test ends, and the test fails if closing fails.
func Serve(t testing.TB, opts relay.Options) *relay.Relay {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if reflect.ValueOf(opts.Log).IsZero() {
		opts.Log = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, err := relay.Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatalf("starting the relay: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := r.Close(); err != nil {
			t.Errorf("closing the relay: %v", err)
		}
	})
	return r
}

// User is one more user of a test relay's configuration (UsersConfig).
type User struct {
	Name, Role, Password string
	Sites                []string // a site manager's
}

// UsersConfig is the YAML of a relay configuration's users section adding
// users to the demo's.
func UsersConfig(t testing.TB, users ...User) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("users:\n")
	for _, u := range users {
		hash, err := auth.HashPasswordCost(u.Password, 4) // the least bcrypt allows: tests need no strength
		if err != nil {
			t.Fatal(err)
		}
		sites := ""
		if len(u.Sites) > 0 {
			sites = ", sites: [" + strings.Join(u.Sites, ", ") + "]"
		}
		fmt.Fprintf(&b, "  - {name: %s, role: %s%s, password_hash: %q}\n", u.Name, u.Role, sites, hash)
	}
	return b.String()
}

// SiteManagersConfig writes a configuration file adding three users to
// the demo's, all with password: mgr1, the manager of site-01, mgr2 of
// site-02, and sup, a supervisor. It returns the file's path.
func SiteManagersConfig(t testing.TB, password string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relay.yaml")
	users := UsersConfig(t,
		User{Name: "mgr1", Role: "site_manager", Password: password, Sites: []string{"site-01"}},
		User{Name: "mgr2", Role: "site_manager", Password: password, Sites: []string{"site-02"}},
		User{Name: "sup", Role: "supervisor", Password: password})
	if err := os.WriteFile(path, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Sites is a demo relay with its sites' managers (SiteManagersConfig), for
// the tests of the site page: the duty officer, signed in to the API, files
// findings as a console does.
type Sites struct {
	*relay.Relay
	Duty *apitest.Client

	t              testing.TB
	snapshot, clip []byte
}

// ServeSites starts it, the managers with password, on the clock now
// (time.Now when nil).
func ServeSites(t testing.TB, password string, now func() time.Time) *Sites {
	t.Helper()
	r := Serve(t, relay.Options{Demo: true, ConfigFile: SiteManagersConfig(t, password), Now: now})
	s := &Sites{Relay: r, Duty: apitest.SignIn(t, r.URL(), "duty", r.Demo().Password), t: t}
	s.snapshot, s.clip = apitest.Evidence(t)
	return s
}

// File files finding id at site (apitest.Draft) with its snapshot and clip.
func (s *Sites) File(id, site string, deadline time.Time) {
	s.t.Helper()
	s.Duty.File(apitest.Draft(id, site, deadline), s.snapshot, s.clip)
}
