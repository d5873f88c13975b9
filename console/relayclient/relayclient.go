// Package relayclient is the relay's HTTP API as Go calls: sign-in, the camera
// list and WHEP signalling. It keeps the login token and renews it by signing
// in again before it expires, so callers only ever ask for a valid one.
package relayclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// maxBody bounds what is read of any relay response; a camera list of a
// hundred sites is well under it.
const maxBody = 8 << 20

// renewWindow is how long before expiry a token is replaced, so that a
// request started with it does not race its expiry.
const renewWindow = time.Minute

// User is the signed-in account as the relay describes it.
type User struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Session is the outcome of a login.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

// Names is a display name by language tag ("zh-CN", "en").
type Names map[string]string

// Camera is one camera of the relay's list.
type Camera struct {
	Site     string `json:"site"`
	ID       string `json:"id"`
	Zone     string `json:"zone"`
	Name     Names  `json:"name"`
	SiteName Names  `json:"site_name"`
	District Names  `json:"district"`
	TimeZone string `json:"time_zone"`
	Online   bool   `json:"online"`
}

// Path is the camera's "site/camera" name.
func (c Camera) Path() string { return c.Site + "/" + c.ID }

// Error is an error answer of the relay: its status, code and message.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter is the relay's hint (camera_offline) of when to try again.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("relay answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Options configures a Client. Zero values are sensible.
type Options struct {
	HTTP *http.Client
	// Now is the clock token renewal is measured against.
	Now func() time.Time
	Log zerolog.Logger
}

// Client talks to one relay. It is safe for concurrent use.
type Client struct {
	base *url.URL
	http *http.Client
	now  func() time.Time
	log  zerolog.Logger

	// signing serialises sign-in so that concurrent callers of an expiring
	// token log in once; it is a channel so that waiting honours ctx.
	signing chan struct{}

	mu       sync.Mutex
	user     string
	password string
	session  Session
	issued   time.Time // when session was obtained, by c.now
}

// New returns a client for the relay at baseURL ("http://host:port").
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("relay URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("relay URL %q: want http://HOST:PORT or https://HOST", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("relay URL %q: must not carry a query, fragment or user info", baseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	c := &Client{base: u, http: opts.HTTP, now: opts.Now, log: opts.Log, signing: make(chan struct{}, 1)}
	if c.http == nil {
		// The timeout is a backstop for a relay that accepts and never
		// answers; callers bound their own calls with ctx.
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// BaseURL is the relay's address as given to New, without a trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// Login signs in and keeps the credentials to sign in again when the token
// nears expiry. A wrong user or password is an *Error with code unauthorized.
func (c *Client) Login(ctx context.Context, user, password string) (Session, error) {
	if err := c.acquire(ctx); err != nil {
		return Session{}, err
	}
	defer c.release()
	return c.login(ctx, user, password)
}

// login must be called holding signing.
func (c *Client) login(ctx context.Context, user, password string) (Session, error) {
	body, err := json.Marshal(map[string]string{"user": user, "password": password})
	if err != nil {
		return Session{}, fmt.Errorf("encoding login: %w", err)
	}
	req, err := c.request(ctx, http.MethodPost, "/api/v1/login", "application/json", body)
	if err != nil {
		return Session{}, err
	}
	var s Session
	if _, err := c.doJSON(req, http.StatusOK, &s); err != nil {
		return Session{}, fmt.Errorf("signing in to %s as %q: %w", c.base, user, err)
	}
	if s.Token == "" {
		return Session{}, fmt.Errorf("signing in to %s as %q: the relay returned no token", c.base, user)
	}
	c.mu.Lock()
	c.user, c.password, c.session, c.issued = user, password, s, c.now()
	c.mu.Unlock()
	c.log.Info().Str("user", s.User.Name).Time("expires_at", s.ExpiresAt).Msg("signed in to relay")
	return s, nil
}

// User is the signed-in account, zero before Login.
func (c *Client) User() User {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session.User
}

// Token returns a login token valid for at least a while, signing in again
// when the current one is about to expire.
func (c *Client) Token(ctx context.Context) (string, error) {
	if token, ok := c.current(); ok {
		return token, nil
	}
	if err := c.acquire(ctx); err != nil {
		return "", err
	}
	defer c.release()
	// Another caller may have signed in while this one waited.
	if token, ok := c.current(); ok {
		return token, nil
	}
	c.mu.Lock()
	user, password := c.user, c.password
	c.mu.Unlock()
	if user == "" {
		return "", errors.New("not signed in to the relay")
	}
	s, err := c.login(ctx, user, password)
	if err != nil {
		return "", fmt.Errorf("renewing relay token: %w", err)
	}
	return s.Token, nil
}

// current returns the token if it is not about to expire.
func (c *Client) current() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session.Token == "" {
		return "", false
	}
	// Renew a minute ahead, or a tenth of a short-lived token's life ahead
	// so that such a token is used at all before being replaced.
	margin := max(min(renewWindow, c.session.ExpiresAt.Sub(c.issued)/10), 0)
	if !c.now().Add(margin).Before(c.session.ExpiresAt) {
		return "", false
	}
	return c.session.Token, true
}

// invalidate drops token if it is still the current one, after the relay
// refused it (restarted with new keys, revoked): the next Token signs in.
func (c *Client) invalidate(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session.Token == token {
		c.session.Token = ""
	}
}

func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.signing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) release() { <-c.signing }

// Cameras returns the relay's camera list.
func (c *Client) Cameras(ctx context.Context) ([]Camera, error) {
	var out struct {
		Cameras []Camera `json:"cameras"`
	}
	_, err := c.authorized(ctx, func(token string) (*http.Request, error) {
		req, err := c.request(ctx, http.MethodGet, "/api/v1/cameras", "", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req, err
	}, func(req *http.Request) (*http.Response, error) {
		return c.doJSON(req, http.StatusOK, &out)
	})
	if err != nil {
		return nil, fmt.Errorf("listing cameras: %w", err)
	}
	return out.Cameras, nil
}

// OfferWHEP posts a complete SDP offer for a camera's stream and returns the
// relay's answer and the session's URL, which DeleteWHEP ends.
func (c *Client) OfferWHEP(ctx context.Context, site, camera, stream, offer string) (answer, session string, err error) {
	path := "/whep/" + url.PathEscape(site) + "/" + url.PathEscape(camera)
	var body []byte
	resp, err := c.authorized(ctx, func(token string) (*http.Request, error) {
		req, err := c.request(ctx, http.MethodPost, path, "application/sdp", []byte(offer))
		if err != nil {
			return nil, err
		}
		if stream != "" {
			req.URL.RawQuery = url.Values{"stream": {stream}}.Encode()
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/sdp")
		return req, nil
	}, func(req *http.Request) (*http.Response, error) {
		resp, b, err := c.do(req, http.StatusCreated)
		body = b
		return resp, err
	})
	if err != nil {
		return "", "", fmt.Errorf("WHEP offer for %s/%s: %w", site, camera, err)
	}
	loc, err := c.sameRelay(resp.Header.Get("Location"))
	if err != nil {
		return "", "", fmt.Errorf("WHEP offer for %s/%s: %w", site, camera, err)
	}
	return string(body), loc, nil
}

// DeleteWHEP ends a WHEP session returned by OfferWHEP.
func (c *Client) DeleteWHEP(ctx context.Context, session string) error {
	target, err := c.sameRelay(session)
	if err != nil {
		return fmt.Errorf("ending WHEP session: %w", err)
	}
	_, err = c.authorized(ctx, func(token string) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, target, nil)
		if err != nil {
			return nil, fmt.Errorf("building request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		return req, nil
	}, func(req *http.Request) (*http.Response, error) {
		resp, _, err := c.do(req, http.StatusOK)
		return resp, err
	})
	if err != nil {
		return fmt.Errorf("ending WHEP session %s: %w", session, err)
	}
	return nil
}

// sameRelay resolves a Location against the relay and refuses one that points
// elsewhere: the login token goes with the DELETE.
func (c *Client) sameRelay(location string) (string, error) {
	if location == "" {
		return "", errors.New("the relay sent no session Location")
	}
	ref, err := url.Parse(location)
	if err != nil {
		return "", fmt.Errorf("session Location %q: %w", location, err)
	}
	u := c.base.ResolveReference(ref)
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return "", fmt.Errorf("session Location %q is not on the relay %s", location, c.base)
	}
	return u.String(), nil
}

// authorized sends a request with the current token and, if the relay
// refuses the token, once more with a fresh one.
func (c *Client) authorized(ctx context.Context, build func(token string) (*http.Request, error), send func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		token, err := c.Token(ctx)
		if err != nil {
			return nil, err
		}
		req, err := build(token)
		if err != nil {
			return nil, err
		}
		resp, err := send(req)
		var rerr *Error
		if attempt == 0 && errors.As(err, &rerr) && rerr.Status == http.StatusUnauthorized {
			c.log.Info().Msg("relay refused the token; signing in again")
			c.invalidate(token)
			continue
		}
		return resp, err
	}
}

// request builds a request to path, whose segments the caller has escaped.
func (c *Client) request(ctx context.Context, method, path, contentType string, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, r)
	if err != nil {
		return nil, fmt.Errorf("building %s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, nil
}

// doJSON sends req, expects status want and decodes a JSON body into out.
func (c *Client) doJSON(req *http.Request, want int, out any) (*http.Response, error) {
	req.Header.Set("Accept", "application/json")
	resp, body, err := c.do(req, want)
	if err != nil {
		return resp, err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return resp, fmt.Errorf("decoding %s %s answer: %w", req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// do sends req and returns the body of a response with status want; any
// other status becomes an *Error.
func (c *Client) do(req *http.Request, want int) (*http.Response, []byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return resp, nil, fmt.Errorf("reading %s %s answer: %w", req.Method, req.URL.Path, err)
	}
	if len(body) > maxBody {
		return resp, nil, fmt.Errorf("%s %s: answer larger than %d bytes", req.Method, req.URL.Path, maxBody)
	}
	if resp.StatusCode != want {
		return resp, nil, decodeError(resp, body)
	}
	return resp, body, nil
}

// decodeError turns an error answer into an *Error; a body that is not the
// relay's JSON (a proxy's HTML page) still yields the status.
func decodeError(resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode}
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error.Code != "" {
		e.Code, e.Message = env.Error.Code, env.Error.Message
	} else {
		e.Code = "http_" + strconv.Itoa(resp.StatusCode)
		e.Message = http.StatusText(resp.StatusCode)
		if s := strings.TrimSpace(string(body)); s != "" && len(s) < 200 {
			e.Message += ": " + s
		}
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}
