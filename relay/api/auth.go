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
// database has them now (role and sites apply at once; a disabled user or
// one whose tokens were revoked since is refused, 401 token_revoked), with
// the token's claims.
func (s *server) principal(r *http.Request) (auth.Principal, auth.Claims, error) {
	token, ok := bearer(r)
	if !ok {
		return auth.Principal{}, auth.Claims{}, errNoToken
	}
	claims, err := s.Signer.Verify(token, auth.AudienceAPI)
	if err != nil {
		return auth.Principal{}, auth.Claims{}, auth.ErrorFor(err)
	}
	p, err := s.admit(r, claims)
	return p, claims, err
}

// admit checks claims against their user as the database has them now.
func (s *server) admit(r *http.Request, c auth.Claims) (auth.Principal, error) {
	u, err := s.Store.User(r.Context(), c.User)
	if errors.Is(err, store.ErrNotFound) {
		return auth.Principal{}, auth.ErrorFor(auth.ErrRevoked)
	}
	if err != nil {
		return auth.Principal{}, err
	}
	p, err := auth.Admit(c, account(u))
	if err != nil {
		return auth.Principal{}, auth.ErrorFor(err)
	}
	return p, nil
}

// account is a user as package auth checks tokens against.
func account(u store.User) auth.Account {
	return auth.Account{Name: u.Name, Role: auth.Role(u.Role), Sites: u.Sites, Disabled: u.Disabled, Generation: u.TokenGeneration}
}

// leaseRetryAfter is the Retry-After of a refusal for a user's limit: by
// then a client that closed something has its room.
const leaseRetryAfter = "5"

// lease opens a lease on res for the request's sign-in; a user at their
// limit is refused 429 too_many_open with Retry-After.
func (s *server) lease(w http.ResponseWriter, res auth.Resource, c auth.Claims) (*auth.Lease, error) {
	l, err := s.Leases.Acquire(res, c)
	if err != nil {
		w.Header().Set("Retry-After", leaseRetryAfter)
		s.Log.Warn().Str("user", c.User).Stringer("resource", res).Msg("refused: the user's limit is reached")
		return nil, err
	}
	return l, nil
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
			s.Log.Warn().Str("user", auth.TypedName(req.User, false)).Str("remote", addr).Msg("sign-in refused: too many failures")
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
		s.Log.Info().Str("user", auth.TypedName(req.User, u.Name != "")).Str("remote", addr).Msg("sign-in refused")
		return unauthorized("wrong user or password")
	}
	if s.Logins != nil {
		s.Logins.Succeeded(req.User, addr)
	}
	s.countLogin("ok")
	s.Log.Info().Str("user", u.Name).Str("remote", addr).Msg("signed in")
	token, claims, err := s.Signer.Issue(u.Name, auth.Role(u.Role), auth.AudienceAPI, u.TokenGeneration)
	if err != nil {
		return fmt.Errorf("issuing a token for %s: %w", u.Name, err)
	}
	s.startDutyAtSignIn(r, u.Name, auth.Role(u.Role))
	writeToken(w, token, claims)
	return nil
}

func (s *server) countLogin(result string) {
	if s.Metrics != nil {
		s.Metrics.Login(result)
	}
}

// refresh gives the holder of a valid login token a fresh one in the same
// session, so a console stays signed in without keeping the password: what
// the session holds open lives on with it. A session at its longest life
// is not renewed (401 session_expired).
func (s *server) refresh(w http.ResponseWriter, r *http.Request) error {
	p, claims, err := s.principal(r)
	if err != nil {
		return err
	}
	token, renewed, err := s.Signer.Renew(claims, p.Role, claims.Generation)
	if errors.Is(err, auth.ErrSessionOver) {
		return auth.ErrorFor(err)
	}
	if err != nil {
		return fmt.Errorf("renewing the token of %s: %w", p.Name, err)
	}
	s.Leases.Renewed(renewed)
	writeToken(w, token, renewed)
	return nil
}

// writeToken answers with a login token (docs/PROTOCOLS.md).
func writeToken(w http.ResponseWriter, token string, c auth.Claims) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"token":      token,
		"expires_at": c.Expires.UTC().Format(time.RFC3339),
		"user":       map[string]string{"name": c.User, "role": string(c.Role)},
	})
}
