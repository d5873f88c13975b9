// Package api is the relay's HTTP surface: health, metrics, sign-in and
// token refresh, the camera list with each camera's health and its event
// stream, and the WHIP and WHEP endpoints, wired to the packages that do
// the work. Every error is JSON: {"error":{"code":"…","message":"…"}}.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/health"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/whep"
)

// Store is what the API reads from the database.
type Store interface {
	Sites(ctx context.Context) ([]store.Site, error)
	Cameras(ctx context.Context) ([]store.Camera, error)
	Camera(ctx context.Context, site, id string) (store.Camera, error)
	User(ctx context.Context, name string) (store.User, error)
	PublishTokenHashes(ctx context.Context, site string) ([][]byte, error)
}

// Streams tells the state of a stream; ok is false for one never seen.
type Streams interface {
	State(key hub.Key) (st hub.State, ok bool)
}

// Changes announces cameras whose state changed (health.Watcher).
type Changes interface {
	Subscribe() *health.Subscription
}

// Metrics counts what the API sees and serves the relay's metrics.
type Metrics interface {
	Login(result string)
	Handler() http.Handler
}

// Publisher runs WHIP sessions.
type Publisher interface {
	Publish(ctx context.Context, key hub.Key, offer string) (id, answer string, err error)
	End(ctx context.Context, site, camera, id string) error
}

// Player runs WHEP sessions.
type Player interface {
	Play(ctx context.Context, req whep.Request) (whep.Session, error)
	End(ctx context.Context, site, camera, user, id string) error
}

// Config is what the API needs.
type Config struct {
	Store   Store
	Signer  *auth.Signer
	Logins  *auth.LoginLimiter
	Streams Streams
	Changes Changes
	WHIP    Publisher
	WHEP    Player
	// Metrics, when set, counts sign-ins and is served at /metrics.
	Metrics Metrics
	// MaxSDPBytes caps SDP and JSON request bodies.
	MaxSDPBytes int64
	// Started is when the relay started: the "since" of streams never seen.
	Started time.Time
	// Now is the clock of stream health and token expiry (time.Now when nil).
	Now func() time.Time
	// EventsRefresh and EventsKeepalive pace the event stream: the whole
	// camera list, and a comment that keeps proxies from closing an idle
	// stream. Defaults 5 s and 15 s.
	EventsRefresh, EventsKeepalive time.Duration
	// Stopping is closed when the relay shuts down, ending event streams
	// (which would otherwise hold the server's shutdown up).
	Stopping <-chan struct{}
	Log      zerolog.Logger
	// Findings, when set, serves the findings API (findings.go).
	Findings Findings
	// SitePage, when set, is the site managers' page, served at /site/.
	SitePage http.Handler
}

type server struct {
	Config
}

// New returns the relay's HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.EventsRefresh <= 0 {
		cfg.EventsRefresh = 5 * time.Second
	}
	if cfg.EventsKeepalive <= 0 {
		cfg.EventsKeepalive = 15 * time.Second
	}
	s := &server{cfg}
	mux := http.NewServeMux()
	route := func(path string, methods map[string]http.HandlerFunc) {
		allow := make([]string, 0, len(methods)+1)
		for m := range methods {
			if m != http.MethodPatch { // routed only to be refused
				allow = append(allow, m)
			}
		}
		if _, ok := methods[http.MethodGet]; ok {
			allow = append(allow, http.MethodHead)
		}
		allowed := strings.Join(sortMethods(allow), ", ")
		for m, h := range methods {
			if m == http.MethodPatch {
				refuse := h
				h = func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Allow", allowed)
					refuse(w, r)
				}
			}
			mux.HandleFunc(m+" "+path, h)
		}
		// Any other method on a known path: 405 in JSON rather than the
		// mux's plain text.
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allowed)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.Path, allowed))
		})
	}
	route("/healthz", map[string]http.HandlerFunc{http.MethodGet: s.health})
	if s.Metrics != nil {
		route("/metrics", map[string]http.HandlerFunc{http.MethodGet: s.Metrics.Handler().ServeHTTP})
	}
	route("/api/v1/login", map[string]http.HandlerFunc{http.MethodPost: s.login})
	route("/api/v1/token/refresh", map[string]http.HandlerFunc{http.MethodPost: s.refresh})
	route("/api/v1/cameras", map[string]http.HandlerFunc{http.MethodGet: s.cameras})
	route("/api/v1/events", map[string]http.HandlerFunc{http.MethodGet: s.events})
	route("/whip/{site}/{camera}", map[string]http.HandlerFunc{
		http.MethodPost:    cors(s.whipPost),
		http.MethodOptions: preflight("POST, OPTIONS", "POST, OPTIONS", true),
	})
	route("/whip/{site}/{camera}/{session}", map[string]http.HandlerFunc{
		http.MethodDelete:  cors(s.whipDelete),
		http.MethodPatch:   cors(noPatch),
		http.MethodOptions: preflight("DELETE, OPTIONS", "DELETE, PATCH, OPTIONS", false),
	})
	route("/whep/{site}/{camera}", map[string]http.HandlerFunc{
		http.MethodPost:    cors(s.whepPost),
		http.MethodOptions: preflight("POST, OPTIONS", "POST, OPTIONS", true),
	})
	route("/whep/{site}/{camera}/{session}", map[string]http.HandlerFunc{
		http.MethodDelete:  cors(s.whepDelete),
		http.MethodPatch:   cors(noPatch),
		http.MethodOptions: preflight("DELETE, OPTIONS", "DELETE, PATCH, OPTIONS", false),
	})
	if s.Findings != nil {
		s.mountFindings(mux, route)
	}
	if s.SitePage != nil {
		mux.Handle("/site/", s.SitePage)
		mux.Handle("GET /site", http.RedirectHandler("/site/", http.StatusMovedPermanently))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no such endpoint: %s", r.URL.Path))
	})
	return s.logged(recovered(mux))
}

func sortMethods(ms []string) []string {
	order := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions}
	out := make([]string, 0, len(ms))
	for _, o := range order {
		for _, m := range ms {
			if m == o {
				out = append(out, m)
			}
		}
	}
	return out
}

// apiError is a failure answered to the client.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func fail(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client hung up; nothing to do
}

// respond writes err as a JSON error; errors that are not apiErrors are the
// relay's own fault, logged and answered with 500.
func (s *server) respond(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.Log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("request failed")
		ae = fail(http.StatusInternalServerError, "internal", "the relay failed to handle the request; see its log")
	}
	writeError(w, ae.status, ae.code, ae.message)
}

func recovered(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(w, http.StatusInternalServerError, "internal", "the relay failed to handle the request; see its log")
				zerolog.Ctx(r.Context()).Error().Interface("panic", v).Msg("handler panicked")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection (event streams
// flush and set deadlines through it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// logged logs each request; paths carry no secrets (tokens travel in
// headers), so they are logged whole, queries not at all.
func (s *server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(s.Log.WithContext(r.Context()))
		next.ServeHTTP(sw, r)
		lvl := zerolog.DebugLevel
		if sw.status >= 500 {
			lvl = zerolog.ErrorLevel
		} else if sw.status >= 400 {
			lvl = zerolog.InfoLevel
		}
		s.Log.WithLevel(lvl).Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.status).
			Dur("took", time.Since(start)).Msg("request")
	})
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// body reads a request body of the given media type, at most MaxSDPBytes.
func (s *server) body(w http.ResponseWriter, r *http.Request, mediaType string) ([]byte, error) {
	got, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || got != mediaType {
		return nil, fail(http.StatusUnsupportedMediaType, "bad_content_type", "Content-Type is %q; want %s", r.Header.Get("Content-Type"), mediaType)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxSDPBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fail(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over %d bytes", s.MaxSDPBytes)
	}
	if err != nil {
		return nil, fail(http.StatusBadRequest, "bad_request", "reading the request body: %v", err)
	}
	return b, nil
}
