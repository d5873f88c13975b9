// Package auth holds who may do what on the relay: password hashing, the
// signed login tokens viewers carry, roles, and the publish tokens site
// gateways carry. It keeps no state of its own: users and token hashes live
// in the store, the signing key in the data directory.
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

// Errors of password and token checks. Callers answer all of them with 401
// and tell the client no more than that.
var (
	ErrWrongPassword = errors.New("wrong password")
	ErrInvalidToken  = errors.New("invalid token")
	ErrExpiredToken  = errors.New("token expired")
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

// Claims is what a login token says.
type Claims struct {
	User    string
	Role    Role
	Expires time.Time
}

// wireClaims is the token's JSON, kept short: tokens travel in every request.
type wireClaims struct {
	User string `json:"u"`
	Role Role   `json:"r"`
	Exp  int64  `json:"exp"` // Unix seconds
}

// DefaultTokenTTL is how long a login token lives unless configured.
const DefaultTokenTTL = time.Hour

// Signer issues and verifies login tokens: base64url(JSON claims) "."
// base64url(HMAC-SHA256 of the first part).
type Signer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// KeySize is the length of a signing key.
const KeySize = 32

// NewSigner returns a signer. now is the clock (time.Now when nil).
func NewSigner(key []byte, ttl time.Duration, now func() time.Time) (*Signer, error) {
	if len(key) < KeySize {
		return nil, fmt.Errorf("token signing key: %d bytes, want at least %d", len(key), KeySize)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("token lifetime %v: must be positive", ttl)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, ttl: ttl, now: now}, nil
}

var b64 = base64.RawURLEncoding

// Issue returns a token for user and when it expires.
func (s *Signer) Issue(user string, role Role) (string, time.Time, error) {
	exp := s.now().Add(s.ttl).Truncate(time.Second)
	payload, err := json.Marshal(wireClaims{User: user, Role: role, Exp: exp.Unix()})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issuing token: %w", err)
	}
	body := b64.EncodeToString(payload)
	return body + "." + b64.EncodeToString(s.sign(body)), exp, nil
}

func (s *Signer) sign(body string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Verify checks a token's signature and expiry and returns its claims.
func (s *Signer) Verify(token string) (Claims, error) {
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
	if err := json.Unmarshal(payload, &w); err != nil || w.User == "" {
		return Claims{}, ErrInvalidToken
	}
	if _, err := ParseRole(string(w.Role)); err != nil {
		return Claims{}, ErrInvalidToken
	}
	c := Claims{User: w.User, Role: w.Role, Expires: time.Unix(w.Exp, 0)}
	if !s.now().Before(c.Expires) {
		return Claims{}, ErrExpiredToken
	}
	return c, nil
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
