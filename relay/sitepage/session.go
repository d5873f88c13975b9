package sitepage

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/store"
)

// session returns the signed-in user as the database has them now, or
// false (and the sign-in page's redirect written) when there is none.
func (p *page) session(w http.ResponseWriter, r *http.Request) (auth.Principal, string, bool) {
	if by, token, ok := p.signedIn(w, r); ok {
		return by, token, true
	}
	if r.Method == http.MethodGet {
		http.Redirect(w, r, "/site/login", http.StatusSeeOther)
	} else {
		p.message(w, r, http.StatusUnauthorized, "expired")
	}
	return auth.Principal{}, "", false
}

// signedIn is session without an answer when there is none.
func (p *page) signedIn(w http.ResponseWriter, r *http.Request) (auth.Principal, string, bool) {
	by, token, _, ok := p.signIn(w, r)
	return by, token, ok
}

// signIn is signedIn with the session's claims. A session cookie is a
// token for the site page alone (the API refuses it, and it refuses API
// tokens), of the user's current token generation.
func (p *page) signIn(w http.ResponseWriter, r *http.Request) (auth.Principal, string, auth.Claims, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return auth.Principal{}, "", auth.Claims{}, false
	}
	claims, err := p.Signer.Verify(c.Value, auth.AudienceSite)
	if err != nil {
		return auth.Principal{}, "", auth.Claims{}, false
	}
	u, err := p.Users.User(r.Context(), claims.User)
	if err != nil {
		return auth.Principal{}, "", auth.Claims{}, false
	}
	by, err := auth.Admit(claims, auth.Account{Name: u.Name, Role: auth.Role(u.Role), Sites: u.Sites, Disabled: u.Disabled, Generation: u.TokenGeneration})
	if err != nil {
		return auth.Principal{}, "", auth.Claims{}, false
	}
	token := c.Value
	// A page kept in use stays signed in, up to the session's longest
	// life: past half its life the token is renewed. The form being read
	// carries the old token's CSRF value, so this waits for a GET.
	if r.Method == http.MethodGet && !claims.Final && claims.Expires.Sub(p.Now()) < p.TokenTTL/2 {
		if fresh, renewed, err := p.Signer.Renew(claims, by.Role, claims.Generation); err == nil {
			token, claims = fresh, renewed
			setCookie(w, r, sessionCookie, token, renewed.Expires)
			if p.Leases != nil {
				p.Leases.Renewed(renewed)
			}
		}
	}
	return by, token, claims, true
}

// csrf is the form token of a session: only the holder of the session
// cookie (which scripts cannot read) can know it.
func (p *page) csrf(token string) string {
	m := hmac.New(sha256.New, p.csrfKey)
	io.WriteString(m, token)
	return hex.EncodeToString(m.Sum(nil))
}

func (p *page) checkCSRF(r *http.Request, token string) bool {
	return hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(p.csrf(token)))
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: cookiePath, Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)})
}

// secure: behind TLS (termination included) cookies travel over TLS only.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (p *page) loginForm(w http.ResponseWriter, r *http.Request) {
	p.showLogin(w, r, http.StatusOK, "")
}

func (p *page) showLogin(w http.ResponseWriter, r *http.Request, status int, errKey string) {
	secret := randomHex()
	setCookie(w, r, loginCookie, secret, time.Time{})
	lang := language(r)
	v := view{Lang: lang, CSRF: secret}
	if errKey != "" {
		v.Error = phrases.In(lang, errKey)
	}
	p.render(w, r, status, "login", v)
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func (p *page) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := r.Cookie(loginCookie)
	if err != nil || r.ParseForm() != nil || !hmac.Equal([]byte(c.Value), []byte(r.PostFormValue("csrf"))) {
		p.showLogin(w, r, http.StatusForbidden, "bad_form")
		return
	}
	name, password := strings.TrimSpace(r.PostFormValue("user")), r.PostFormValue("password")
	addr := httpapi.RemoteIP(r)
	if p.Logins != nil {
		if wait, ok := p.Logins.Attempt(name, addr); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			p.showLogin(w, r, http.StatusTooManyRequests, "too_many")
			return
		}
	}
	u, err := p.Users.User(r.Context(), name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.Log.Error().Err(err).Msg("reading a user to sign in")
		p.showLogin(w, r, http.StatusInternalServerError, "failed")
		return
	}
	if err := auth.CheckPassword(u.PasswordHash, password); err != nil || u.Disabled || name == "" {
		p.Log.Info().Str("user", auth.TypedName(name, u.Name != "")).Str("remote", addr).Msg("site page sign-in refused")
		p.showLogin(w, r, http.StatusUnauthorized, "wrong_password")
		return
	}
	if p.Logins != nil {
		p.Logins.Succeeded(name, addr)
	}
	token, claims, err := p.Signer.Issue(u.Name, auth.Role(u.Role), auth.AudienceSite, u.TokenGeneration)
	if err != nil {
		p.Log.Error().Err(err).Msg("issuing a site page session")
		p.showLogin(w, r, http.StatusInternalServerError, "failed")
		return
	}
	p.Log.Info().Str("user", u.Name).Str("remote", addr).Msg("signed in to the site page")
	setCookie(w, r, sessionCookie, token, claims.Expires)
	setCookie(w, r, loginCookie, "", time.Unix(1, 0))
	http.Redirect(w, r, "/site/", http.StatusSeeOther)
}

// logout signs the user out everywhere: their token generation moves on, so
// that the cookie, a copy of it, and every token they hold are refused
// from now on, and what they hold open ends at once.
func (p *page) logout(w http.ResponseWriter, r *http.Request) {
	by, token, ok := p.session(w, r)
	if !ok {
		return
	}
	if r.ParseForm() != nil || !p.checkCSRF(r, token) {
		p.message(w, r, http.StatusForbidden, "bad_form")
		return
	}
	if _, err := p.Users.AdvanceTokenGeneration(r.Context(), by.Name); err != nil {
		p.Log.Error().Err(err).Msg("revoking the tokens of a user signing out")
		p.message(w, r, http.StatusInternalServerError, "failed")
		return
	}
	if p.Leases != nil {
		if err := p.Leases.Check(r.Context()); err != nil {
			p.Log.Warn().Err(err).Msg("ending what a user signing out holds open")
		}
	}
	p.Log.Info().Str("user", by.Name).Msg("signed out of the site page")
	setCookie(w, r, sessionCookie, "", time.Unix(1, 0))
	http.Redirect(w, r, "/site/login", http.StatusSeeOther)
}
