package auth

import (
	"bytes"
	"errors"
	"fmt"
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
	s, err := NewSigner(key, time.Hour, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := s.Issue("mgr", RoleSiteManager)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(c.t.Add(time.Hour)) {
		t.Fatalf("expires %v", exp)
	}
	claims, err := s.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if claims.User != "mgr" || claims.Role != RoleSiteManager || !claims.Expires.Equal(exp) {
		t.Fatalf("claims %+v", claims)
	}

	other, _ := NewSigner(bytes.Repeat([]byte{8}, KeySize), time.Hour, c.Now)
	forged, _, _ := other.Issue("mgr", RoleAdmin)
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
			if _, err := s.Verify(tc.token); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}

	c.t = c.t.Add(59 * time.Minute)
	if _, err := s.Verify(tok); err != nil {
		t.Fatalf("a minute before expiry: %v", err)
	}
	c.t = c.t.Add(time.Minute)
	if _, err := s.Verify(tok); !errors.Is(err, ErrExpiredToken) {
		t.Fatalf("at expiry: %v, want ErrExpiredToken", err)
	}
}

func TestNewSignerRejectsBadSettings(t *testing.T) {
	if _, err := NewSigner(make([]byte, 8), time.Hour, nil); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := NewSigner(make([]byte, KeySize), 0, nil); err == nil {
		t.Fatal("zero lifetime accepted")
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

func TestLoginLimiter(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLoginLimiter(3, 5, time.Minute, clk.Now)
	try := func(user, addr string) (time.Duration, bool) { return l.Attempt(user, addr) }

	for i := range 3 {
		if _, ok := try("duty", "10.0.0.1"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	wait, ok := try("duty", "10.0.0.1")
	if ok || wait != 20*time.Second {
		t.Fatalf("fourth failure for one user: ok=%v wait=%v, want refused for 20s", ok, wait)
	}
	// The same user from elsewhere is refused too: the name is guessed at.
	if _, ok := try("duty", "10.0.0.2"); ok {
		t.Fatal("user limit bypassed from another address")
	}
	// Another user from the first address has the address's two left.
	for i := range 2 {
		if _, ok := try(fmt.Sprintf("user%d", i), "10.0.0.1"); !ok {
			t.Fatalf("other user %d refused", i)
		}
	}
	if _, ok := try("user9", "10.0.0.1"); ok {
		t.Fatal("address limit not applied")
	}

	// The buckets drain: one more attempt per window/limit.
	clk.t = clk.t.Add(20 * time.Second)
	if _, ok := try("duty", "10.0.0.3"); !ok {
		t.Fatal("user still refused after draining")
	}
	if _, ok := try("duty", "10.0.0.3"); ok {
		t.Fatal("drained more than one attempt")
	}

	// A success forgets the user's failures and refunds the address.
	clk.t = clk.t.Add(time.Minute)
	for range 2 {
		try("zhao", "10.0.0.4")
	}
	l.Succeeded("zhao", "10.0.0.4")
	for i := range 3 {
		if _, ok := try("zhao", "10.0.0.4"); !ok {
			t.Fatalf("attempt %d after a success refused", i+1)
		}
	}
}

func TestLoginLimiterForgetsIdleKeys(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLoginLimiter(1, 1, time.Minute, clk.Now)
	for i := range pruneAt {
		l.Attempt(fmt.Sprint("u", i), fmt.Sprint("a", i))
	}
	clk.t = clk.t.Add(time.Minute)
	l.Attempt("late", "late")
	if n := len(l.users); n != 1 {
		t.Fatalf("%d user buckets kept, want 1", n)
	}
}
