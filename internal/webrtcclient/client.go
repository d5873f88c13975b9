// Package webrtcclient is a WHIP publisher and a WHEP viewer in their
// plainest form: offer, POST, answer, media, DELETE, with nothing retried.
// The relay's tests, the end-to-end tests and the benchmarks use Publish and
// Play; the site simulator wraps Exchange and End in its reconnection policy.
package webrtcclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/qianliyan/qianliyan/internal/webrtcavc"
)

// Config says how to reach the server. The zero value works against a
// server that needs no token.
type Config struct {
	// Token is sent as "Authorization: Bearer": a publish token for WHIP,
	// a login token for WHEP.
	Token string
	// HTTPClient carries the requests; http.DefaultClient when nil.
	HTTPClient *http.Client
	// API makes the peer connection. When nil, one is made per peer by
	// NewAPI; many peers against one server should share one.
	API *webrtc.API
	// ConnectTimeout bounds a publisher's wait for ICE and DTLS after the
	// answer, within ctx; DefaultConnectTimeout when zero.
	ConnectTimeout time.Duration
}

// DefaultConnectTimeout is how long Publish waits for the connection.
const DefaultConnectTimeout = 10 * time.Second

// maxAnswerBytes bounds the SDP answer read from a server.
const maxAnswerBytes = 1 << 20

// NewAPI returns the pion API for peers talking to endpoint: H.264 only
// (webrtcavc.NewAPI), and ICE kept to 127.0.0.1 without mDNS when the
// endpoint is on loopback, as every test and the demo are.
func NewAPI(endpoint string) (*webrtc.API, error) {
	api, err := webrtcavc.NewAPI(webrtcavc.Settings(webrtcavc.IsLoopbackURL(endpoint)))
	if err != nil {
		return nil, fmt.Errorf("creating WebRTC API: %w", err)
	}
	return api, nil
}

func (c Config) api(endpoint string) (*webrtc.API, error) {
	if c.API != nil {
		return c.API, nil
	}
	return NewAPI(endpoint)
}

func (c Config) client() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

// Error is a refusal by the server: its status, and its JSON error
// ({"error":{"code","message"}}) when it sent one.
type Error struct {
	Method, URL string
	Status      int
	Code        string
	Message     string
	// RetryAfter is the server's Retry-After (camera_offline); zero if none.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s %s: %d: %s", e.Method, e.URL, e.Status, e.Message)
	}
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.URL, e.Status, e.Code, e.Message)
}

func readError(req *http.Request, resp *http.Response) *Error {
	e := &Error{Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var doc struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil && doc.Error.Message != "" {
		e.Code, e.Message = doc.Error.Code, doc.Error.Message
		return e
	}
	e.Message = strings.TrimSpace(string(body))
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "…"
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// Session is an answered WHIP or WHEP offer.
type Session struct {
	// Location is the session's resource as the server named it (the
	// relay sends a path, "/whep/site-01/doff1/ID"), and URL the same
	// resolved against the endpoint, for DELETE.
	Location, URL string
	// Posted is when the offer was sent: a viewer's wait for its first
	// picture counts from here.
	Posted time.Time
}

// Exchange sends pc's offer to endpoint once ICE gathering is complete
// (the relay does not trickle) and applies the answer. The caller has
// added pc's transceivers. A refusal is an *Error.
func Exchange(ctx context.Context, pc *webrtc.PeerConnection, endpoint string, cfg Config) (Session, error) {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return Session{}, fmt.Errorf("creating offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return Session{}, fmt.Errorf("setting local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return Session{}, fmt.Errorf("gathering ICE candidates: %w", ctx.Err())
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		return Session{}, fmt.Errorf("building offer request: %w", err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	if cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	posted := time.Now()
	resp, err := cfg.client().Do(req)
	if err != nil {
		return Session{}, fmt.Errorf("posting offer: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return Session{}, readError(req, resp)
	}
	if ct, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || ct != "application/sdp" {
		return Session{}, fmt.Errorf("POST %s: answer of Content-Type %q, want application/sdp", endpoint, resp.Header.Get("Content-Type"))
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return Session{}, fmt.Errorf("POST %s: 201 without Location", endpoint)
	}
	abs, err := resp.Location()
	if err != nil {
		return Session{}, fmt.Errorf("POST %s: unusable Location %q: %w", endpoint, loc, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return Session{}, fmt.Errorf("reading answer: %w", err)
	}
	if len(body) > maxAnswerBytes {
		return Session{}, fmt.Errorf("POST %s: answer over %d bytes", endpoint, maxAnswerBytes)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		return Session{}, fmt.Errorf("applying answer: %w", err)
	}
	return Session{Location: loc, URL: abs.String(), Posted: posted}, nil
}

// End sends DELETE for the session, the way a client leaves. A refusal is
// an *Error.
func End(ctx context.Context, s Session, cfg Config) error {
	if s.URL == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.URL, nil)
	if err != nil {
		return fmt.Errorf("building DELETE: %w", err)
	}
	if cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	resp, err := cfg.client().Do(req)
	if err != nil {
		return fmt.Errorf("ending session: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readError(req, resp)
	}
	return nil
}
