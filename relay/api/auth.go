package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/store"
)

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

func unauthorized(format string, args ...any) error {
	return fault.New(fault.Unauthenticated, "unauthorized", format, args...)
}

var errNoToken = unauthorized("missing Authorization: Bearer token")

// principal checks the request's login token and returns its user as the
// database has them now (role changes and disabling apply at once), and
// when the token expires.
func (s *server) principal(r *http.Request) (auth.Principal, time.Time, error) {
	token, ok := bearer(r)
	if !ok {
		return auth.Principal{}, time.Time{}, errNoToken
	}
	claims, err := s.Signer.Verify(token)
	if errors.Is(err, auth.ErrExpiredToken) {
		return auth.Principal{}, time.Time{}, unauthorized("the token has expired; sign in again")
	}
	if err != nil {
		return auth.Principal{}, time.Time{}, unauthorized("the token is not valid")
	}
	p, err := s.user(r, claims.User)
	return p, claims.Expires, err
}

// user returns a signed-in user as the database has them now.
func (s *server) user(r *http.Request, name string) (auth.Principal, error) {
	u, err := s.Store.User(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return auth.Principal{}, unauthorized("user %s may no longer sign in", name)
	}
	if err != nil {
		return auth.Principal{}, err
	}
	return auth.Principal{Name: u.Name, Role: auth.Role(u.Role), Sites: u.Sites}, nil
}

func (s *server) login(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := httpapi.Decode(w, r, s.MaxSDPBytes, &req); err != nil {
		return err
	}
	if req.User == "" || req.Password == "" {
		return fault.New(fault.Invalid, "bad_request", "user and password are required")
	}
	addr := httpapi.RemoteIP(r)
	if s.Logins != nil {
		if wait, ok := s.Logins.Attempt(req.User, addr); !ok {
			s.countLogin("limited")
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			s.Log.Warn().Str("user", req.User).Str("remote", addr).Msg("sign-in refused: too many failures")
			return fault.New(fault.TooMany, "too_many_attempts",
				"too many failed sign-ins for this user or from this address; retry in %d s", secs)
		}
	}
	u, err := s.Store.User(r.Context(), req.User)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// Unknown and disabled users cost a bcrypt comparison too, and get the
	// same answer as a wrong password.
	if err := auth.CheckPassword(u.PasswordHash, req.Password); err != nil || u.Disabled {
		s.countLogin("refused")
		s.Log.Info().Str("user", req.User).Str("remote", addr).Msg("sign-in refused")
		return unauthorized("wrong user or password")
	}
	if s.Logins != nil {
		s.Logins.Succeeded(req.User, addr)
	}
	s.countLogin("ok")
	s.Log.Info().Str("user", u.Name).Str("remote", addr).Msg("signed in")
	return s.issue(w, u.Name, auth.Role(u.Role))
}

func (s *server) countLogin(result string) {
	if s.Metrics != nil {
		s.Metrics.Login(result)
	}
}

// refresh gives the holder of a valid login token a fresh one, so a console
// stays signed in without keeping the password.
func (s *server) refresh(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	return s.issue(w, p.Name, p.Role)
}

// issue answers with a new login token (docs/PROTOCOLS.md).
func (s *server) issue(w http.ResponseWriter, user string, role auth.Role) error {
	token, exp, err := s.Signer.Issue(user, role)
	if err != nil {
		return fmt.Errorf("issuing a token for %s: %w", user, err)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"token":      token,
		"expires_at": exp.UTC().Format(time.RFC3339),
		"user":       map[string]string{"name": user, "role": string(role)},
	})
	return nil
}
