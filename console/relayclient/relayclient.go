// Package relayclient is the relay's HTTP API as Go calls, the console's
// one client of it: sign-in, token renewal, the camera list with its
// health, the event stream, WHEP signalling, and the findings API (filing,
// evidence, actions, the changes feed) over relay/wire's bodies. It keeps the login token and renews it with the relay's
// refresh endpoint, never with the password, which it does not keep: when
// the relay refuses to renew, the session is over (ErrSessionExpired).
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

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// maxBody bounds what is read of any relay response, and the longest event
// line; a camera list of a hundred sites with health is well under it.
const maxBody = 8 << 20

// renewWindow is how long before expiry a token is replaced, so that a
// request started with it does not race its expiry.
const renewWindow = time.Minute

// eventSilence is how long the event stream may say nothing before it counts
// as dead: the relay sends a comment every 15 s and the list every 5 s.
const eventSilence = 45 * time.Second

// Errors callers tell apart.
var (
	// ErrSessionExpired: the relay refused to renew the login token
	// (expired, or the relay restarted with a new signing key). Signing in
	// again is the only way on.
	ErrSessionExpired = errors.New("the relay ended the session")
	// ErrNotSignedIn: no Login yet.
	ErrNotSignedIn = errors.New("not signed in to the relay")
	// ErrUnsendable: the request cannot be put as the relay reads it (a
	// time past the year 9999, say); asking again will not change that.
	ErrUnsendable = errors.New("cannot be encoded for the relay")
)

// User is the signed-in account as the relay describes it.
type User struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Session is the outcome of a login or a token refresh.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

// Health states of a camera or stream, as the relay reports them.
const (
	StateOnline  = "online"
	StateStalled = "stalled"
	StateOffline = "offline"
)

// Camera is one camera of the relay's list, with its health.
//
// A Camera decoded from the relay encodes back to exactly the relay's JSON,
// fields this console does not know included, so the view gets the relay's
// list as it was sent.
type Camera struct {
	Site     string         `json:"site"`
	ID       string         `json:"id"`
	Zone     string         `json:"zone"`
	Name     bilingual.Text `json:"name"`
	SiteName bilingual.Text `json:"site_name"`
	District bilingual.Text `json:"district"`
	TimeZone string         `json:"time_zone"`
	Online   bool           `json:"online"`
	// State is the best of the streams' states; empty from a relay that
	// reports no health.
	State string `json:"state,omitempty"`
	// Since is when State began, RFC 3339 as the relay sent it.
	Since   string                  `json:"since,omitempty"`
	Streams map[string]StreamHealth `json:"streams,omitempty"`

	raw json.RawMessage
}

// StreamHealth is one stream's health; the numbers only while it runs.
type StreamHealth struct {
	State              string  `json:"state"`
	Since              string  `json:"since,omitempty"`
	Width              int     `json:"width,omitempty"`
	Height             int     `json:"height,omitempty"`
	FPS                float64 `json:"fps,omitempty"`
	BitrateKbps        float64 `json:"bitrate_kbps,omitempty"`
	KeyframeIntervalMS float64 `json:"keyframe_interval_ms,omitempty"`
	LastFrameAgeMS     float64 `json:"last_frame_age_ms,omitempty"`
	Viewers            int     `json:"viewers,omitempty"`
}

// Path is the camera's "site/camera" name.
func (c Camera) Path() string { return c.Site + "/" + c.ID }

// SinceTime is Since parsed; zero when absent or unreadable.
func (c Camera) SinceTime() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, c.Since)
	return t
}

// camera has Camera's fields without its methods, for plain coding.
type camera Camera

func (c *Camera) UnmarshalJSON(b []byte) error {
	var plain camera
	if err := json.Unmarshal(b, &plain); err != nil {
		return err
	}
	*c = Camera(plain)
	c.raw = append(json.RawMessage(nil), b...)
	return nil
}

func (c Camera) MarshalJSON() ([]byte, error) {
	if c.raw != nil {
		return c.raw, nil
	}
	return json.Marshal(camera(c))
}

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

// Permanent reports whether the relay will give the same answer to the
// same request however often it is asked: a 4xx other than the ones that
// mean "later" (408, 425, 429) or "who are you" (401, handled by renewing),
// and other than a relay that has no findings API (an unknown route, 404
// not_found, or 405): that one may be upgraded, and is waited for.
func (e *Error) Permanent() bool {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusMethodNotAllowed:
		return false
	case http.StatusNotFound:
		return e.Code != "not_found" && e.Code != "http_404"
	}
	return e.Status >= 400 && e.Status < 500
}

// Permanent reports whether asking again will not change err: an answer
// of the relay that will never change (Error.Permanent), or a request that
// cannot be sent (ErrUnsendable). Anything else (the relay unreachable,
// failing, or answering what cannot be read) may go otherwise next time.
func Permanent(err error) bool {
	var rerr *Error
	return errors.As(err, &rerr) && rerr.Permanent() || errors.Is(err, ErrUnsendable)
}

// Options configures a Client. Zero values are sensible.
type Options struct {
	HTTP *http.Client
	// Now is the clock token renewal is measured against.
	Now func() time.Time
	Log zerolog.Logger
}

// Client talks to one relay as one signed-in user. It is safe for
// concurrent use.
type Client struct {
	base *url.URL
	http *http.Client
	// stream has no overall timeout: the event stream is watched for
	// silence, and uploads and the changes poll are bounded by their ctx.
	stream *http.Client
	now    func() time.Time
	log    zerolog.Logger

	// signing serialises sign-in and renewal so that concurrent callers of
	// an expiring token renew it once; it is a channel so that waiting
	// honours ctx.
	signing chan struct{}

	mu      sync.Mutex
	session Session
	issued  time.Time     // when session was obtained, by c.now
	expired chan struct{} // closed when the relay refused to renew
	ended   bool          // expired is closed
	endedBy *Error        // the relay's refusal that ended the session
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
	c := &Client{base: u, http: opts.HTTP, now: opts.Now, log: opts.Log,
		signing: make(chan struct{}, 1), expired: make(chan struct{})}
	if c.http == nil {
		// The timeout is a backstop for a relay that accepts and never
		// answers; callers bound their own calls with ctx.
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	// A redirect is not followed: it would re-send a sign-in's password or
	// a token to wherever it points. It is answered as the error it is.
	own := *c.http
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &own
	stream := *c.http
	stream.Timeout = 0 // the event stream is watched for silence instead
	c.stream = &stream
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// BaseURL is the relay's address as given to New, without a trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// Login signs in. A wrong user or password is an *Error with status 401.
// The password is not kept: renewal uses the token.
func (c *Client) Login(ctx context.Context, user, password string) (Session, error) {
	if err := c.acquire(ctx); err != nil {
		return Session{}, err
	}
	defer c.release()
	body, err := json.Marshal(map[string]string{"user": user, "password": password})
	if err != nil {
		return Session{}, fmt.Errorf("encoding login: %w", err)
	}
	req, err := c.request(ctx, http.MethodPost, "/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return Session{}, err
	}
	s, err := c.decodeSession(req)
	if err != nil {
		return Session{}, fmt.Errorf("signing in to %s as %q: %w", c.base, user, err)
	}
	c.mu.Lock()
	c.session, c.issued = s, c.now()
	if c.ended {
		c.expired, c.ended, c.endedBy = make(chan struct{}), false, nil
	}
	c.mu.Unlock()
	c.log.Info().Str("user", s.User.Name).Time("expires_at", s.ExpiresAt).Msg("signed in to relay")
	return s, nil
}

// decodeSession sends a login or refresh request and reads its session.
func (c *Client) decodeSession(req *http.Request) (Session, error) {
	var s Session
	if _, err := c.doJSON(c.http, req, http.StatusOK, &s); err != nil {
		return Session{}, err
	}
	if s.Token == "" {
		return Session{}, errors.New("the relay returned no token")
	}
	return s, nil
}

// Session is the current session: user, token and expiry; zero before Login.
func (c *Client) Session() Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

// User is the signed-in account, zero before Login.
func (c *Client) User() User { return c.Session().User }

// Expired is closed when the relay refuses to renew the token: the session
// is over and every call fails with ErrSessionExpired until a new Login.
func (c *Client) Expired() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expired
}

// RenewAt is when the token should be renewed: ahead of its expiry by a
// minute, or by a fifth of a short-lived token's life so that such a token
// is used at all before being replaced.
func (c *Client) RenewAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.renewAt()
}

func (c *Client) renewAt() time.Time {
	margin := max(min(renewWindow, c.session.ExpiresAt.Sub(c.issued)/5), 0)
	return c.session.ExpiresAt.Add(-margin)
}

// Refresh renews the token now. When the relay refuses, the error wraps
// ErrSessionExpired and Expired is closed.
func (c *Client) Refresh(ctx context.Context) (Session, error) {
	if err := c.acquire(ctx); err != nil {
		return Session{}, err
	}
	defer c.release()
	return c.refresh(ctx)
}

// refresh must be called holding signing.
func (c *Client) refresh(ctx context.Context) (Session, error) {
	c.mu.Lock()
	token, ended := c.session.Token, c.ended
	c.mu.Unlock()
	switch {
	case ended:
		return Session{}, fmt.Errorf("renewing relay token: %w", ErrSessionExpired)
	case token == "":
		return Session{}, ErrNotSignedIn
	}
	req, err := c.request(ctx, http.MethodPost, "/api/v1/token/refresh", "", nil)
	if err != nil {
		return Session{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	s, err := c.decodeSession(req)
	var rerr *Error
	if errors.As(err, &rerr) && rerr.Status == http.StatusUnauthorized {
		c.endSession(rerr)
		c.log.Warn().Str("code", rerr.Code).Str("message", rerr.Message).Msg("the relay refused to renew the login token; the session is over")
		return Session{}, fmt.Errorf("renewing relay token: %w: %w", ErrSessionExpired, err)
	}
	if err != nil {
		return Session{}, fmt.Errorf("renewing relay token: %w", err)
	}
	c.mu.Lock()
	c.session, c.issued = s, c.now()
	c.mu.Unlock()
	c.log.Debug().Time("expires_at", s.ExpiresAt).Msg("renewed relay token")
	return s, nil
}

func (c *Client) endSession(by *Error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.session.Token = ""
	if !c.ended {
		c.ended, c.endedBy = true, by
		close(c.expired)
	}
}

// EndedBy is the relay's refusal that ended the session (token_revoked,
// session_expired…), for telling the officer why; nil while it lasts.
func (c *Client) EndedBy() *Error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endedBy
}

// Token returns a login token valid for at least a while, renewing the
// current one when it is about to expire.
func (c *Client) Token(ctx context.Context) (string, error) {
	if token, ok, err := c.current(); ok || err != nil {
		return token, err
	}
	if err := c.acquire(ctx); err != nil {
		return "", err
	}
	defer c.release()
	// Another caller may have renewed it while this one waited.
	if token, ok, err := c.current(); ok || err != nil {
		return token, err
	}
	s, err := c.refresh(ctx)
	if err == nil {
		return s.Token, nil
	}
	if errors.Is(err, ErrSessionExpired) {
		return "", err
	}
	// The relay could not be asked (down, restarting): a token that has not
	// expired yet still serves, and renewal is tried again on next use.
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session.Token != "" && c.now().Before(c.session.ExpiresAt) {
		c.log.Debug().Err(err).Msg("renewing relay token failed; using the current one")
		return c.session.Token, nil
	}
	return "", err
}

// current returns the token if it is not due for renewal (ok), or the
// error that makes renewing pointless.
func (c *Client) current() (token string, ok bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.ended:
		return "", false, ErrSessionExpired
	case c.session.Token == "":
		return "", false, ErrNotSignedIn
	case c.now().Before(c.renewAt()):
		return c.session.Token, true, nil
	}
	return "", false, nil
}

// refused handles the relay refusing token: unless another caller has
// renewed it meanwhile, it is renewed, which ends the session if the relay
// refuses that too (restarted with a new key, revoked).
func (c *Client) refused(ctx context.Context, token string) error {
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer c.release()
	c.mu.Lock()
	renewed := c.session.Token != token && c.session.Token != ""
	c.mu.Unlock()
	if renewed {
		return nil
	}
	c.log.Info().Msg("relay refused the token; renewing it")
	_, err := c.refresh(ctx)
	return err
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
		return c.doJSON(c.http, req, http.StatusOK, &out)
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
		req, err := c.request(ctx, http.MethodPost, path, "application/sdp", strings.NewReader(offer))
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
		resp, b, err := c.do(c.http, req, http.StatusCreated)
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
		resp, _, err := c.do(c.http, req, http.StatusOK)
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
// refuses the token, renews it and sends the request once more.
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
			if rerr := c.refused(ctx, token); rerr != nil {
				return nil, rerr
			}
			continue
		}
		return resp, err
	}
}

// request builds a request to path, whose segments the caller has escaped;
// body may be nil.
func (c *Client) request(ctx context.Context, method, path, contentType string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return nil, fmt.Errorf("building %s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, nil
}

// doJSON sends req with hc, expects status want and decodes a JSON body
// into out.
func (c *Client) doJSON(hc *http.Client, req *http.Request, want int, out any) (*http.Response, error) {
	req.Header.Set("Accept", "application/json")
	resp, body, err := c.do(hc, req, want)
	if err != nil {
		return resp, err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return resp, fmt.Errorf("decoding %s %s answer: %w", req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// anySuccess, as the status a call wants, takes any 2xx: the findings API
// answers a first filing 201 and its repeat 200.
const anySuccess = 0

// do sends req with hc and returns the body of a response with status want;
// any other status becomes an *Error.
func (c *Client) do(hc *http.Client, req *http.Request, want int) (*http.Response, []byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := readLimited(resp)
	if err != nil {
		return resp, nil, err
	}
	if ok := resp.StatusCode == want || want == anySuccess && resp.StatusCode >= 200 && resp.StatusCode <= 299; !ok {
		return resp, nil, decodeError(resp, body)
	}
	return resp, body, nil
}

// readLimited reads a response body of at most maxBody bytes.
func readLimited(resp *http.Response) ([]byte, error) {
	req := resp.Request
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s %s answer: %w", req.Method, req.URL.Path, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("%s %s: answer larger than %d bytes", req.Method, req.URL.Path, maxBody)
	}
	return body, nil
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
