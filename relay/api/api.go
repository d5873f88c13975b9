// Package api is the relay's HTTP surface: health, sign-in, the camera list,
// and the WHIP and WHEP endpoints, wired to the packages that do the work.
// Every error is JSON: {"error":{"code":"…","message":"…"}}.
package api

import (
	"bytes"
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

// Streams tells whether a stream has a source.
type Streams interface {
	Online(key hub.Key) bool
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
	Streams Streams
	WHIP    Publisher
	WHEP    Player
	// MaxSDPBytes caps SDP and JSON request bodies.
	MaxSDPBytes int64
	Log         zerolog.Logger
}

type server struct {
	Config
}

// New returns the relay's HTTP handler.
func New(cfg Config) http.Handler {
	s := &server{cfg}
	mux := http.NewServeMux()
	route := func(path string, methods map[string]http.HandlerFunc) {
		allow := make([]string, 0, len(methods))
		for m, h := range methods {
			mux.HandleFunc(m+" "+path, h)
			allow = append(allow, m)
		}
		if _, ok := methods[http.MethodGet]; ok {
			allow = append(allow, http.MethodHead)
		}
		// Any other method on a known path: 405 in JSON rather than the
		// mux's plain text.
		allowed := strings.Join(sortMethods(allow), ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allowed)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.Path, allowed))
		})
	}
	route("/healthz", map[string]http.HandlerFunc{http.MethodGet: s.health})
	route("/api/v1/login", map[string]http.HandlerFunc{http.MethodPost: s.login})
	route("/api/v1/cameras", map[string]http.HandlerFunc{http.MethodGet: s.cameras})
	route("/whip/{site}/{camera}", map[string]http.HandlerFunc{
		http.MethodPost:    cors(s.whipPost),
		http.MethodOptions: preflight("POST, OPTIONS", true),
	})
	route("/whip/{site}/{camera}/{session}", map[string]http.HandlerFunc{
		http.MethodDelete:  cors(s.whipDelete),
		http.MethodOptions: preflight("DELETE, OPTIONS", false),
	})
	route("/whep/{site}/{camera}", map[string]http.HandlerFunc{
		http.MethodPost:    cors(s.whepPost),
		http.MethodOptions: preflight("POST, OPTIONS", true),
	})
	route("/whep/{site}/{camera}/{session}", map[string]http.HandlerFunc{
		http.MethodDelete:  cors(s.whepDelete),
		http.MethodOptions: preflight("DELETE, OPTIONS", false),
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no such endpoint: %s", r.URL.Path))
	})
	return s.logged(recovered(mux))
}

func sortMethods(ms []string) []string {
	order := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete, http.MethodOptions}
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

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

var errNoToken = fail(http.StatusUnauthorized, "unauthorized", "missing Authorization: Bearer token")

// principal checks the request's login token and returns its user as the
// database has them now (role changes and disabling apply at once).
func (s *server) principal(r *http.Request) (auth.Principal, error) {
	token, ok := bearer(r)
	if !ok {
		return auth.Principal{}, errNoToken
	}
	claims, err := s.Signer.Verify(token)
	if errors.Is(err, auth.ErrExpiredToken) {
		return auth.Principal{}, fail(http.StatusUnauthorized, "unauthorized", "the token has expired; sign in again")
	}
	if err != nil {
		return auth.Principal{}, fail(http.StatusUnauthorized, "unauthorized", "the token is not valid")
	}
	u, err := s.Store.User(r.Context(), claims.User)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return auth.Principal{}, fail(http.StatusUnauthorized, "unauthorized", "user %s may no longer sign in", claims.User)
	}
	if err != nil {
		return auth.Principal{}, err
	}
	return auth.Principal{Name: u.Name, Role: auth.Role(u.Role), Sites: u.Sites}, nil
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	b, err := s.body(w, r, "application/json")
	if err != nil {
		s.respond(w, r, err)
		return
	}
	var req struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.respond(w, r, fail(http.StatusBadRequest, "bad_request", "the body must be {\"user\":…,\"password\":…}: %v", err))
		return
	}
	if req.User == "" || req.Password == "" {
		s.respond(w, r, fail(http.StatusBadRequest, "bad_request", "user and password are required"))
		return
	}
	u, err := s.Store.User(r.Context(), req.User)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.respond(w, r, err)
		return
	}
	// Unknown and disabled users cost a bcrypt comparison too, and get the
	// same answer as a wrong password.
	if err := auth.CheckPassword(u.PasswordHash, req.Password); err != nil || u.Disabled {
		s.respond(w, r, fail(http.StatusUnauthorized, "unauthorized", "wrong user or password"))
		return
	}
	token, exp, err := s.Signer.Issue(u.Name, auth.Role(u.Role))
	if err != nil {
		s.respond(w, r, err)
		return
	}
	s.Log.Info().Str("user", u.Name).Msg("signed in")
	writeJSON(w, http.StatusOK, map[string]any{
		"token":      token,
		"expires_at": exp.UTC().Format(time.RFC3339),
		"user":       map[string]string{"name": u.Name, "role": u.Role},
	})
}

// Camera is one entry of the camera list (docs/PROTOCOLS.md).
type Camera struct {
	Site     string     `json:"site"`
	ID       string     `json:"id"`
	Zone     string     `json:"zone"`
	Name     store.Name `json:"name"`
	SiteName store.Name `json:"site_name"`
	District store.Name `json:"district"`
	TimeZone string     `json:"time_zone"`
	Online   bool       `json:"online"`
}

func (s *server) cameras(w http.ResponseWriter, r *http.Request) {
	p, err := s.principal(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	sites, err := s.Store.Sites(r.Context())
	if err != nil {
		s.respond(w, r, err)
		return
	}
	bySite := make(map[string]store.Site, len(sites))
	for _, st := range sites {
		bySite[st.ID] = st
	}
	cams, err := s.Store.Cameras(r.Context())
	if err != nil {
		s.respond(w, r, err)
		return
	}
	out := make([]Camera, 0, len(cams))
	for _, c := range cams {
		if !p.CanView(c.Site) {
			continue
		}
		st := bySite[c.Site]
		main := hub.Key{Site: c.Site, Camera: c.ID, Stream: hub.StreamMain}
		out = append(out, Camera{
			Site: c.Site, ID: c.ID, Zone: c.Zone, Name: c.Name,
			SiteName: st.Name, District: st.District, TimeZone: st.TimeZone,
			Online: s.Streams.Online(main) || s.Streams.Online(main.Other()),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"cameras": out})
}
