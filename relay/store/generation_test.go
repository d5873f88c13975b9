package store

import (
	"context"
	"testing"
)

// A user's token generation moves when what their tokens stand for
// changes, and only then: the relay puts its configured users at every
// start, which must not sign everyone out.
func TestTokenGenerationAdvancesOnChange(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, site := range []string{"site-01", "site-02"} {
		if err := s.PutSite(ctx, Site{ID: site, TimeZone: "Asia/Shanghai"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	base := User{Name: "mgr", Role: "site_manager", PasswordHash: "h1", Sites: []string{"site-02", "site-01"}}
	if err := s.PutUser(ctx, base); err != nil {
		t.Fatal(err)
	}
	gen := func() int64 {
		t.Helper()
		u, err := s.User(ctx, "mgr")
		if err != nil {
			t.Fatal(err)
		}
		return u.TokenGeneration
	}
	with := func(edit func(*User)) User {
		u := base
		u.Sites = append([]string(nil), base.Sites...)
		edit(&u)
		return u
	}
	steps := []struct {
		name    string
		do      func() error
		advance bool
	}{
		{"put again unchanged", func() error { return s.PutUser(ctx, base) }, false},
		{"put with the sites in another order", func() error {
			return s.PutUser(ctx, with(func(u *User) { u.Sites = []string{"site-01", "site-02"} }))
		}, false},
		{"a site taken away", func() error { return s.PutUser(ctx, with(func(u *User) { u.Sites = []string{"site-01"} })) }, true},
		{"the site given back", func() error { return s.PutUser(ctx, base) }, true},
		{"another role", func() error { return s.PutUser(ctx, with(func(u *User) { u.Role = "duty" })) }, true},
		{"the role back", func() error { return s.PutUser(ctx, base) }, true},
		{"another password by put", func() error { return s.PutUser(ctx, with(func(u *User) { u.PasswordHash = "h2" })) }, true},
		{"disabled by put", func() error { return s.PutUser(ctx, with(func(u *User) { u.PasswordHash, u.Disabled = "h2", true })) }, true},
		{"enabled", func() error { return s.SetDisabled(ctx, "mgr", false) }, true},
		{"disabled", func() error { return s.SetDisabled(ctx, "mgr", true) }, true},
		{"password set", func() error { return s.SetPassword(ctx, "mgr", "h3") }, true},
		{"signed out", func() error { _, err := s.AdvanceTokenGeneration(ctx, "mgr"); return err }, true},
	}
	for _, st := range steps {
		before := gen()
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if after := gen(); (after > before) != st.advance || after < before {
			t.Errorf("%s: generation %d → %d, want it advanced: %v", st.name, before, after, st.advance)
		}
	}
	if _, err := s.AdvanceTokenGeneration(ctx, "ghost"); err == nil {
		t.Error("signing out a user who does not exist: no error")
	}

	// The generations the relay watches are those of users who may sign in.
	if err := s.PutUser(ctx, User{Name: "duty", Role: "duty", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	gens, err := s.TokenGenerations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := gens["mgr"]; ok || len(gens) != 1 || gens["duty"] != 0 {
		t.Fatalf("generations %v, want duty's alone (mgr is disabled)", gens)
	}
}
