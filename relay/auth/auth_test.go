package auth

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestPasswordHashing(t *testing.T) {
	hash, err := HashPasswordCost("correct horse", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(hash, "correct horse") || CheckPasswordHash(hash) != nil {
		t.Fatalf("hash %q", hash)
	}
	cases := []struct {
		name, hash, password string
		ok                   bool
	}{
		{"right password", hash, "correct horse", true},
		{"wrong password", hash, "correct horse ", false},
		{"empty password", hash, "", false},
		{"unknown user", "", "correct horse", false},
		{"garbage hash", "not-a-hash", "correct horse", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckPassword(c.hash, c.password)
			if c.ok != (err == nil) {
				t.Fatalf("CheckPassword: %v, want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrWrongPassword) {
				t.Fatalf("error %v is not ErrWrongPassword", err)
			}
		})
	}
	if CheckPasswordHash("$2a$10$short") == nil {
		t.Fatal("a truncated hash passed as bcrypt")
	}
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func TestTokenLifecycle(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	c := &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	s, err := NewSigner(key, time.Hour, 12*time.Hour, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	tok, issued, err := s.Issue("mgr", RoleSiteManager, AudienceAPI, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !issued.Expires.Equal(c.t.Add(time.Hour)) || !issued.Started.Equal(c.t) || issued.Final {
		t.Fatalf("issued %+v", issued)
	}
	claims, err := s.Verify(tok, AudienceAPI)
	if err != nil {
		t.Fatal(err)
	}
	if !claims.Started.Equal(issued.Started) || !claims.Expires.Equal(issued.Expires) || claims.Final || claims.User != "mgr" || claims.Role != RoleSiteManager || claims.Generation != 3 || claims.Audience != AudienceAPI {
		t.Fatalf("claims %+v, want %+v", claims, issued)
	}

	other, _ := NewSigner(bytes.Repeat([]byte{8}, KeySize), time.Hour, 12*time.Hour, c.Now)
	forged, _, _ := other.Issue("mgr", RoleAdmin, AudienceAPI, 3)
	body, sig, _ := strings.Cut(tok, ".")
	adminBody, _, _ := strings.Cut(forged, ".")
	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrInvalidToken},
		{"no signature", body, ErrInvalidToken},
		{"other key", forged, ErrInvalidToken},
		{"claims swapped", adminBody + "." + sig, ErrInvalidToken},
		{"signature not base64", body + ".!!!", ErrInvalidToken},
		{"tampered signature", body + "." + strings.Repeat("A", len(sig)), ErrInvalidToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Verify(tc.token, AudienceAPI); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}

	c.t = c.t.Add(59 * time.Minute)
	if _, err := s.Verify(tok, AudienceAPI); err != nil {
		t.Fatalf("a minute before expiry: %v", err)
	}
	c.t = c.t.Add(time.Minute)
	if _, err := s.Verify(tok, AudienceAPI); !errors.Is(err, ErrExpiredToken) {
		t.Fatalf("at expiry: %v, want ErrExpiredToken", err)
	}
}

// The site page's session cookie is no API token, nor the reverse.
func TestTokenAudience(t *testing.T) {
	c := &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	s, err := NewSigner(bytes.Repeat([]byte{7}, KeySize), time.Hour, 12*time.Hour, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	cookie, _, _ := s.Issue("mgr", RoleSiteManager, AudienceSite, 0)
	api, _, _ := s.Issue("mgr", RoleSiteManager, AudienceAPI, 0)
	if _, err := s.Verify(cookie, AudienceAPI); !errors.Is(err, ErrWrongAudience) {
		t.Fatalf("the site page's cookie as an API token: %v, want ErrWrongAudience", err)
	}
	if _, err := s.Verify(api, AudienceSite); !errors.Is(err, ErrWrongAudience) {
		t.Fatalf("an API token as the site page's cookie: %v, want ErrWrongAudience", err)
	}
	if _, err := s.Verify(cookie, AudienceSite); err != nil {
		t.Fatalf("the cookie on the site page: %v", err)
	}
}

// However often a session's token is renewed, the session ends its
// longest life after its sign-in; its last token says so, and cannot be
// renewed.
func TestSessionHasALongestLife(t *testing.T) {
	c := &clock{t: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	start := c.t
	s, err := NewSigner(bytes.Repeat([]byte{7}, KeySize), time.Hour, 12*time.Hour, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	tok, claims, _ := s.Issue("duty", RoleDuty, AudienceAPI, 0)
	for renewals := 0; !claims.Final; {
		c.t = c.t.Add(50 * time.Minute)
		got, err := s.Verify(tok, AudienceAPI)
		if err != nil {
			t.Fatalf("after %d renewals, at %v: %v", renewals, c.t.Sub(start), err)
		}
		if tok, claims, err = s.Renew(got, RoleDuty, 0); err != nil {
			t.Fatalf("renewal %d: %v", renewals+1, err)
		}
		renewals++
		if !claims.Started.Equal(start) {
			t.Fatalf("renewal %d starts the session anew at %v", renewals, claims.Started)
		}
	}
	if want := start.Add(12 * time.Hour); !claims.Expires.Equal(want) || !claims.Final {
		t.Fatalf("last token %+v, want it final and expiring at %v", claims, want)
	}
	if _, _, err := s.Renew(claims, RoleDuty, 0); !errors.Is(err, ErrSessionOver) {
		t.Fatalf("renewing the last token: %v, want ErrSessionOver", err)
	}
	c.t = start.Add(12 * time.Hour)
	if _, err := s.Verify(tok, AudienceAPI); !errors.Is(err, ErrSessionOver) {
		t.Fatalf("the last token at the session's end: %v, want ErrSessionOver", err)
	}
}

// A token is admitted only while its user's generation is the one it was
// issued at and the user is enabled.
func TestAdmit(t *testing.T) {
	c := Claims{User: "mgr", Role: RoleSiteManager, Generation: 2}
	a := Account{Name: "mgr", Role: RoleSiteManager, Sites: []string{"site-02"}, Generation: 2}
	p, err := Admit(c, a)
	if err != nil || p.Name != "mgr" || !p.CanView("site-02") || p.CanView("site-01") {
		t.Fatalf("admitted %+v, %v", p, err)
	}
	for name, acc := range map[string]Account{
		"revoked since":  {Name: "mgr", Role: RoleSiteManager, Generation: 3},
		"disabled":       {Name: "mgr", Role: RoleSiteManager, Generation: 2, Disabled: true},
		"someone else's": {Name: "duty", Role: RoleDuty, Generation: 2},
	} {
		if _, err := Admit(c, acc); !errors.Is(err, ErrRevoked) {
			t.Errorf("%s: %v, want ErrRevoked", name, err)
		}
	}
}

func TestNewSignerRejectsBadSettings(t *testing.T) {
	if _, err := NewSigner(make([]byte, 8), time.Hour, 12*time.Hour, nil); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := NewSigner(make([]byte, KeySize), 0, 12*time.Hour, nil); err == nil {
		t.Fatal("zero lifetime accepted")
	}
	if _, err := NewSigner(make([]byte, KeySize), time.Hour, time.Minute, nil); err == nil {
		t.Fatal("a session shorter than its token accepted")
	}
}

func TestCanView(t *testing.T) {
	cases := []struct {
		p    Principal
		site string
		want bool
	}{
		{Principal{Role: RoleDuty}, "site-01", true},
		{Principal{Role: RoleSupervisor}, "site-02", true},
		{Principal{Role: RoleAdmin}, "site-03", true},
		{Principal{Role: RoleSiteManager, Sites: []string{"site-02"}}, "site-02", true},
		{Principal{Role: RoleSiteManager, Sites: []string{"site-02"}}, "site-01", false},
		{Principal{Role: RoleSiteManager}, "site-01", false},
		{Principal{Role: "guest"}, "site-01", false},
	}
	for _, c := range cases {
		if got := c.p.CanView(c.site); got != c.want {
			t.Errorf("%s %v viewing %s: %v, want %v", c.p.Role, c.p.Sites, c.site, got, c.want)
		}
	}
	for _, r := range Roles {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	if _, err := ParseRole("root"); err == nil {
		t.Error("ParseRole accepted root")
	}
}

func TestPublishTokens(t *testing.T) {
	tok, hash, err := NewPublishToken()
	if err != nil {
		t.Fatal(err)
	}
	tok2, hash2, _ := NewPublishToken()
	if tok == tok2 || len(tok) < 40 {
		t.Fatalf("tokens %q, %q", tok, tok2)
	}
	stored := [][]byte{hash2, hash}
	if !MatchPublishToken(tok, stored) || !MatchPublishToken(tok2, stored) {
		t.Fatal("stored token rejected")
	}
	for _, bad := range []string{"", tok[:len(tok)-1], tok + "x", strings.ToUpper(tok)} {
		if MatchPublishToken(bad, stored) {
			t.Errorf("token %q accepted", bad)
		}
	}
	if MatchPublishToken(tok, nil) {
		t.Error("token accepted with nothing stored")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) || len(k1) != KeySize {
		t.Fatalf("key not kept: %v", err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode())
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("short key loaded")
	}
}
