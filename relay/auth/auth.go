// Package auth holds who may do what on the relay: password hashing, the
// signed login tokens viewers carry (each for one use, in a session of
// bounded life, refused once its user's token generation has moved on),
// roles, the publish tokens site gateways carry, the sign-in limiter, and
// the leases under which users hold video sessions, event streams and long
// polls open, ended when the right to them goes. Users, their generations
// and token hashes live in the store, the signing key in the data
// directory; the limiter and the leases are the relay process's memory.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a user is for.
type Role string

// The roles.
const (
	RoleDuty        Role = "duty"         // duty officer: watches every camera
	RoleSupervisor  Role = "supervisor"   // supervisor: watches every camera
	RoleSiteManager Role = "site_manager" // watches their own sites' cameras only
	RoleAdmin       Role = "admin"        // everything
)

// Roles lists every role.
var Roles = []Role{RoleDuty, RoleSupervisor, RoleSiteManager, RoleAdmin}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles, Role(s)) {
		return Role(s), nil
	}
	return "", fmt.Errorf("role %q: want one of duty, supervisor, site_manager, admin", s)
}

// Principal is a signed-in user as a request sees them.
type Principal struct {
	Name  string
	Role  Role
	Sites []string // a site manager's sites
}

// CanView reports whether p may watch the cameras of site.
func (p Principal) CanView(site string) bool {
	switch p.Role {
	case RoleDuty, RoleSupervisor, RoleAdmin:
		return true
	case RoleSiteManager:
		return slices.Contains(p.Sites, site)
	}
	return false
}

// Errors of password and token checks. Callers answer all of them with 401.
var (
	ErrWrongPassword = errors.New("wrong password")
	ErrInvalidToken  = errors.New("invalid token")
	ErrExpiredToken  = errors.New("token expired")
	// ErrWrongAudience: a valid token for another use (the site page's
	// session cookie offered to the API, or the reverse).
	ErrWrongAudience = errors.New("token for another use")
	// ErrSessionOver: the token's session has reached its longest life
	// (Signer's maxSession): it can neither be used nor renewed.
	ErrSessionOver = errors.New("session over")
	// ErrRevoked: the user's tokens were revoked after this one was
	// issued (password, role or sites changed, disabled, signed out).
	ErrRevoked = errors.New("token revoked")
)

// HashPassword returns the bcrypt hash of password at the default cost.
func HashPassword(password string) (string, error) {
	return HashPasswordCost(password, bcrypt.DefaultCost)
}

// HashPasswordCost is HashPassword at a chosen cost (tests use bcrypt.MinCost).
func HashPasswordCost(password string, cost int) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	return string(h), nil
}

// CheckPasswordHash checks that hash is a bcrypt hash, for configuration.
func CheckPasswordHash(hash string) error {
	if _, err := bcrypt.Cost([]byte(hash)); err != nil {
		return fmt.Errorf("not a bcrypt hash: %w", err)
	}
	return nil
}

// dummyHash is compared against when the user does not exist, so a login
// for an unknown name costs as much as one with a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("qianliyan-no-such-user"), bcrypt.DefaultCost)
	return h
})

// CheckPassword reports whether password matches hash; an empty hash
// (unknown user) never matches but takes as long as one that does not.
func CheckPassword(hash, password string) error {
	h := []byte(hash)
	if hash == "" {
		h = dummyHash()
	}
	err := bcrypt.CompareHashAndPassword(h, []byte(password))
	if hash == "" || err != nil {
		return ErrWrongPassword
	}
	return nil
}

// Audience is what a login token is for. Each use refuses the others'
// tokens, so that the site page's cookie, which a browser holds, is no
// API token, and an API token set as the cookie signs nobody in.
type Audience string

// The audiences.
const (
	AudienceAPI  Audience = "api"  // the HTTP API and WHEP (consoles)
	AudienceSite Audience = "site" // the site page's session cookie
)

// Claims is what a login token says.
type Claims struct {
	User     string
	Role     Role
	Audience Audience
	// Generation is the user's token generation when the session began or
	// was last renewed; the user's current one must match (Admit).
	Generation int64
	// Started is when the session began (its sign-in); renewals keep it.
	Started time.Time
	Expires time.Time
	// Final is set on a session's last token, which expires when the
	// session reaches its longest life: it cannot be renewed.
	Final bool
}

// wireClaims is the token's JSON, kept short: tokens travel in every request.
type wireClaims struct {
	User     string   `json:"u"`
	Role     Role     `json:"r"`
	Audience Audience `json:"a"`
	Gen      int64    `json:"g"`
	Started  int64    `json:"s"`   // Unix seconds
	Exp      int64    `json:"exp"` // Unix seconds
}

// DefaultTokenTTL is how long a login token lives unless configured.
const DefaultTokenTTL = time.Hour

// DefaultMaxSession is how long a session lasts, however often its token
// is renewed, unless configured: a shift.
const DefaultMaxSession = 12 * time.Hour

// Signer issues and verifies login tokens: base64url(JSON claims) "."
// base64url(HMAC-SHA256 of the first part).
type Signer struct {
	key        []byte
	ttl        time.Duration
	maxSession time.Duration
	now        func() time.Time
}

// KeySize is the length of a signing key.
const KeySize = 32

// NewSigner returns a signer of tokens living ttl, in sessions that end
// maxSession after their sign-in however often renewed. now is the clock
// (time.Now when nil).
func NewSigner(key []byte, ttl, maxSession time.Duration, now func() time.Time) (*Signer, error) {
	if len(key) < KeySize {
		return nil, fmt.Errorf("token signing key: %d bytes, want at least %d", len(key), KeySize)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("token lifetime %v: must be positive", ttl)
	}
	if maxSession < ttl {
		return nil, fmt.Errorf("session limit %v: must be at least the token lifetime %v", maxSession, ttl)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, ttl: ttl, maxSession: maxSession, now: now}, nil
}

var b64 = base64.RawURLEncoding

// Issue returns the first token of a new session of user (a sign-in) for
// aud, at the user's token generation gen.
func (s *Signer) Issue(user string, role Role, aud Audience, gen int64) (string, Claims, error) {
	return s.issue(Claims{User: user, Role: role, Audience: aud, Generation: gen, Started: s.now().Truncate(time.Second)})
}

// Renew returns a fresh token continuing c's session, with the user's
// role and generation as they are now. It fails with ErrSessionOver when
// c is its session's last token.
func (s *Signer) Renew(c Claims, role Role, gen int64) (string, Claims, error) {
	if c.Final {
		return "", Claims{}, ErrSessionOver
	}
	c.Role, c.Generation = role, gen
	return s.issue(c)
}

func (s *Signer) issue(c Claims) (string, Claims, error) {
	end := s.sessionEnd(c.Started)
	c.Expires = s.now().Add(s.ttl).Truncate(time.Second)
	if !c.Expires.Before(end) {
		c.Expires, c.Final = end, true
	}
	payload, err := json.Marshal(wireClaims{User: c.User, Role: c.Role, Audience: c.Audience, Gen: c.Generation,
		Started: c.Started.Unix(), Exp: c.Expires.Unix()})
	if err != nil {
		return "", Claims{}, fmt.Errorf("issuing token: %w", err)
	}
	body := b64.EncodeToString(payload)
	return body + "." + b64.EncodeToString(s.sign(body)), c, nil
}

// sessionEnd is when a session begun at started is over.
func (s *Signer) sessionEnd(started time.Time) time.Time {
	return started.Add(s.maxSession).Truncate(time.Second)
}

func (s *Signer) sign(body string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Verify checks a token's signature, use and expiry and returns its
// claims. Whether the user's tokens were revoked since is Admit's to say.
func (s *Signer) Verify(token string, aud Audience) (Claims, error) {
	body, sig, ok := strings.Cut(token, ".")
	if !ok {
		return Claims{}, ErrInvalidToken
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.sign(body)) {
		return Claims{}, ErrInvalidToken
	}
	payload, err := b64.DecodeString(body)
	if err != nil {
		return Claims{}, ErrInvalidToken
	}
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil || w.User == "" || w.Started == 0 {
		return Claims{}, ErrInvalidToken
	}
	if _, err := ParseRole(string(w.Role)); err != nil {
		return Claims{}, ErrInvalidToken
	}
	if w.Audience != aud {
		return Claims{}, ErrWrongAudience
	}
	c := Claims{User: w.User, Role: w.Role, Audience: w.Audience, Generation: w.Gen,
		Started: time.Unix(w.Started, 0), Expires: time.Unix(w.Exp, 0)}
	end := s.sessionEnd(c.Started)
	if c.Expires.After(end) {
		return Claims{}, ErrInvalidToken // a key that signed this was misused
	}
	c.Final = c.Expires.Equal(end)
	if !s.now().Before(c.Expires) {
		if c.Final {
			return Claims{}, ErrSessionOver
		}
		return Claims{}, ErrExpiredToken
	}
	return c, nil
}

// Account is a user as the relay database has them now.
type Account struct {
	Name       string
	Role       Role
	Sites      []string
	Disabled   bool
	Generation int64
}

// Admit checks a verified token's claims against its user's account as it
// is now and returns who the request is from: the role and sites are the
// account's. It fails with ErrRevoked when the user is disabled or their
// tokens were revoked after c was issued.
func Admit(c Claims, a Account) (Principal, error) {
	if a.Disabled || a.Generation != c.Generation || a.Name != c.User {
		return Principal{}, ErrRevoked
	}
	return Principal{Name: a.Name, Role: a.Role, Sites: a.Sites}, nil
}

// LoadOrCreateKey reads the signing key at path, creating it (0600) with
// fresh random bytes on first use, so tokens survive a relay restart.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < KeySize {
			return nil, fmt.Errorf("token signing key %s: %d bytes, want %d (delete it to make a new one)", path, len(key), KeySize)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading token signing key: %w", err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generating token signing key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating token signing key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing token signing key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing token signing key: %w", err)
	}
	return key, nil
}

// NewPublishToken returns a fresh publish token (256 random bits, base64url)
// and the hash to store for it.
func NewPublishToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("generating publish token: %w", err)
	}
	token = b64.EncodeToString(b)
	return token, HashPublishToken(token), nil
}

// HashPublishToken returns the SHA-256 of a publish token, the form stored.
func HashPublishToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// MatchPublishToken reports whether token is one of the stored hashes. Every
// hash is compared, in constant time, whatever matches.
func MatchPublishToken(token string, hashes [][]byte) bool {
	h := HashPublishToken(token)
	match := 0
	for _, stored := range hashes {
		match |= subtle.ConstantTimeCompare(h, stored)
	}
	return token != "" && match == 1
}

// NewPassword returns a random password for generated accounts (the demo).
func NewPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating password: %w", err)
	}
	return b64.EncodeToString(b), nil
}
