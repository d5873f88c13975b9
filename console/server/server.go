// Package server is the console backend's one HTTP layer, the same for the
// Wails window and for a browser: the built frontend, every handler of the
// JSON API the view calls (/api/v1/…: bootstrap, session, cameras, events,
// layouts, tours, checklists, runs, findings, evidence) on internal/httpapi,
// and the video bridge (/ws/video). The backend and the findings core
// return Go values and typed errors; answerOf turns those errors into
// answers, in one place. Everything under /api/ and /ws/ needs the
// per-launch secret, except when the handler sits behind Wails'
// AssetServer, which only the webview can reach.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/events"
	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/secret"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/console/wall"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
)

// Bootstrap is what the view learns first (GET /api/v1/bootstrap). User
// and DefaultCamera are empty while nobody is signed in.
type Bootstrap struct {
	Bridge        string            `json:"bridge"`
	Token         string            `json:"token"`
	Relay         string            `json:"relay"`
	User          *relayclient.User `json:"user,omitempty"`
	DefaultCamera string            `json:"default_camera"`
}

// Session is the console's sign-in (GET/POST /api/v1/session). Signed out,
// Relay is the last relay used and Reason, when set, says why: the session
// expired, or the sign-in given at start is being retried (Retrying)
// because the relay cannot be reached.
type Session struct {
	SignedIn  bool              `json:"signed_in"`
	Relay     string            `json:"relay"`
	User      *relayclient.User `json:"user,omitempty"`
	ExpiresAt time.Time         `json:"expires_at,omitzero"`
	Reason    string            `json:"reason,omitempty"`
	Message   string            `json:"message,omitempty"`
	Retrying  bool              `json:"retrying,omitempty"`
}

// SignIn is the sign-in form (POST /api/v1/session).
type SignIn struct {
	Relay    string `json:"relay"`
	User     string `json:"user"`
	Password string `json:"password"`
}

// Console is what the API needs of the backend. Its errors are
// *fault.Error values, or errors answerOf knows.
type Console interface {
	// Bootstrap waits until the backend has started, or failed to.
	Bootstrap(ctx context.Context) (Bootstrap, error)
	Session(ctx context.Context) Session
	SignIn(ctx context.Context, in SignIn) (Session, error)
	// SignOut ends the session and every pull.
	SignOut(ctx context.Context) error
	Cameras(ctx context.Context) ([]relayclient.Camera, error)
	// Events subscribes a view to the event stream.
	Events() *events.Subscription
}

// Wall is the signed-in user's layouts and tours.
type Wall interface {
	Layouts(ctx context.Context) ([]wall.Layout, error)
	PutLayout(ctx context.Context, l wall.Layout) (wall.Layout, error)
	DeleteLayout(ctx context.Context, name string) error
	Tours(ctx context.Context) ([]wall.Tour, error)
	PutTour(ctx context.Context, t wall.Tour) (wall.Tour, error)
	DeleteTour(ctx context.Context, name string) error
}

// Options configures the handler.
type Options struct {
	// Assets is the built frontend, index.html at its root.
	Assets  fs.FS
	Console Console
	Wall    Wall
	Secret  string
	// Trusted handlers need no secret: they sit behind Wails' AssetServer,
	// whose requests come from the webview only.
	Trusted bool
	// Bridge serves /ws/video on this handler's own address, which the
	// bootstrap then names; without it the console's bridge is named.
	Bridge http.Handler
	// Origins are other page origins that may call the API here (CORS):
	// the Wails window ("wails://wails") reads the event stream from the
	// loopback port, which is not its own origin.
	Origins []string
	// BootstrapWait bounds how long the view's first request waits for a
	// start still in progress (8 s); the view retries after the 503.
	BootstrapWait time.Duration
	// KeepAlive is how often an idle event stream gets a comment (15 s).
	KeepAlive time.Duration
	// Findings returns the checklists and findings core, nil until the
	// console has opened its store (answered 503 starting meanwhile).
	Findings func() *findings.Service
	// Shifts returns the signed-in relay's shifts API, or why there is
	// none (a *fault.Error: signed out, the session expired).
	Shifts func() (Shifts, error)
	// Coverage returns the signed-in relay's client for the coverage
	// reports (coverage.go); Watching records what is on screen.
	Coverage func() (*relayclient.Client, error)
	Watching Watching
	// Downloads is where the backend saves reports and notices for the
	// window ("": the XDG download folder, else ~/Downloads).
	Downloads string
	Log       zerolog.Logger
}

type handler struct {
	opts Options
	rt   *httpapi.Router
}

// Body limits: a 25-tile layout or a tour of a thousand steps is well under
// maxBody; a finding's note or a run's mark under maxFindingBody, a flag's
// body that and its snapshot.
const (
	maxBody        = 256 << 10
	maxFindingBody = 64 << 10
)

// New returns the handler.
func New(opts Options) http.Handler {
	if opts.BootstrapWait <= 0 {
		opts.BootstrapWait = 8 * time.Second
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 15 * time.Second
	}
	h := &handler{opts: opts, rt: httpapi.NewRouter(opts.Log, answerOf)}
	rt := h.rt
	rt.Route("/api/v1/bootstrap", httpapi.Methods{"GET": h.bootstrap})
	rt.Route("/api/v1/session", httpapi.Methods{"GET": h.session, "POST": h.signIn, "DELETE": h.signOut})
	rt.Route("/api/v1/cameras", httpapi.Methods{"GET": h.cameras})
	rt.Route("/api/v1/events", httpapi.Methods{"GET": h.events})
	rt.Route("/api/v1/layouts", httpapi.Methods{"GET": h.layouts})
	rt.Route("/api/v1/layouts/{name}", httpapi.Methods{"PUT": h.putLayout, "DELETE": h.deleteLayout})
	rt.Route("/api/v1/tours", httpapi.Methods{"GET": h.tours})
	rt.Route("/api/v1/tours/{name}", httpapi.Methods{"PUT": h.putTour, "DELETE": h.deleteTour})
	h.findingsRoutes()
	h.shiftsRoutes()
	h.coverageRoutes()
	h.statsRoutes()
	h.noticesRoutes()
	h.reportsRoutes()
	h.reviewRoutes()
	h.snapshotRoutes()
	rt.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteError(w, http.StatusNotFound, "not_found", "no API "+r.Method+" "+r.URL.Path)
	}))
	if opts.Bridge != nil && !opts.Trusted {
		rt.Handle("/ws/video", opts.Bridge)
	}
	rt.Handle("/ws/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteError(w, http.StatusNotFound, "not_found", "no WebSocket at "+r.URL.Path+"; the video bridge address is in /api/v1/bootstrap")
	}))
	rt.Handle("/", http.HandlerFunc(h.static))
	return httpapi.Recovered(opts.Log, h)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The browser-mode address carries the secret: keep it out of Referer
	// headers, and the page out of other sites' frames.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	guarded := strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/ws/")
	if guarded && h.cors(w, r) {
		return
	}
	if guarded && !h.opts.Trusted && !secret.Matches(r, h.opts.Secret) {
		httpapi.WriteError(w, http.StatusUnauthorized, "unauthorized", "launch token missing or wrong: use the address qianliyan printed")
		return
	}
	h.rt.ServeHTTP(w, r)
}

// cors lets the allowed origins read API answers, and answers their
// preflight requests (done reports that it did).
func (h *handler) cors(w http.ResponseWriter, r *http.Request) (done bool) {
	origin := r.Header.Get("Origin")
	allowed := false
	for _, o := range h.opts.Origins {
		allowed = allowed || (origin != "" && strings.EqualFold(o, origin))
	}
	if !allowed {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Add("Vary", "Origin")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// answerOf is the one place the backend's and its cores' own errors become
// answers; a *fault.Error is answered as it says, and an error none of
// these is the console's own fault (500, detail in the log only).
func answerOf(err error) error {
	if fault.As(err) != nil {
		return err
	}
	var fe *wall.FieldError
	var rerr *relayclient.Error
	var nerr net.Error
	var uerr *url.Error
	switch {
	case errors.As(err, &fe):
		e := fault.New(fault.Invalid, "bad_request", "%w", err)
		e.Field = fe.Field
		return e
	case errors.Is(err, store.ErrNotFound):
		return fault.New(fault.NotFound, "unknown_finding", "%w", err)
	case errors.Is(err, store.ErrForwarded):
		return fault.New(fault.Conflict, "forwarded", "%w", err)
	case errors.Is(err, store.ErrTransition):
		return fault.New(fault.Conflict, "bad_transition", "%w", err)
	case errors.Is(err, store.ErrNothingFailing):
		return fault.New(fault.Conflict, "nothing_failing", "%w: nothing to retry", err)
	case errors.Is(err, store.ErrInvalid):
		return fault.New(fault.Invalid, "invalid_field", "%w", err)
	case errors.As(err, &rerr):
		return fault.New(fault.Upstream, "relay_error", "%w", err)
	case errors.As(err, &uerr), errors.As(err, &nerr):
		return fault.New(fault.Upstream, "relay_unreachable", "%w", err)
	}
	return err
}

// starting is the answer while the console has not started: the view
// tries again in a moment.
func starting(w http.ResponseWriter) error {
	w.Header().Set("Retry-After", "1")
	return fault.New(fault.Unavailable, "starting", "the console is still starting")
}

func (h *handler) bootstrap(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.BootstrapWait)
	defer cancel()
	b, err := h.opts.Console.Bootstrap(ctx)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		return starting(w)
	case err != nil:
		return fault.New(fault.Unavailable, "start_failed", "%w", err)
	}
	b.Token = h.opts.Secret
	if h.opts.Bridge != nil && !h.opts.Trusted {
		// The browser reaches the bridge where it reached this page.
		b.Bridge = (&url.URL{Scheme: "ws", Host: r.Host, Path: "/ws/video"}).String()
	}
	httpapi.WriteJSON(w, http.StatusOK, b)
	return nil
}

func (h *handler) session(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, h.opts.Console.Session(r.Context()))
	return nil
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) error {
	var in SignIn
	if err := httpapi.Decode(w, r, maxBody, &in); err != nil {
		return err
	}
	s, err := h.opts.Console.SignIn(r.Context(), in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, s)
	return nil
}

func (h *handler) signOut(w http.ResponseWriter, r *http.Request) error {
	if err := h.opts.Console.SignOut(r.Context()); err != nil {
		return err
	}
	noContent(w)
	return nil
}

// noContent answers 204, never cached.
func noContent(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) cameras(w http.ResponseWriter, r *http.Request) error {
	cams, err := h.opts.Console.Cameras(r.Context())
	if err != nil {
		return err
	}
	if cams == nil {
		cams = []relayclient.Camera{}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"cameras": cams})
	return nil
}

// events serves the event stream as Server-Sent Events until the view
// leaves, falls behind, or the console stops. Signed out, it starts with a
// session event saying so; sign-ins and sign-outs follow as they happen.
func (h *handler) events(w http.ResponseWriter, r *http.Request) error {
	sub := h.opts.Console.Events()
	defer sub.Close()
	stream, err := httpapi.NewEventStream(w, 0)
	if err != nil {
		h.opts.Log.Warn().Err(err).Msg("event stream cannot be flushed")
		return nil
	}
	if s := h.opts.Console.Session(r.Context()); !s.SignedIn {
		if s.Reason == "" {
			s.Reason = "signed_out"
		}
		if stream.SendJSON(events.Session, s) != nil {
			return nil
		}
	}
	keep := time.NewTicker(h.opts.KeepAlive)
	defer keep.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return nil
		case <-keep.C:
			err = stream.Comment("keepalive")
		case ev, ok := <-sub.C():
			if !ok {
				return nil
			}
			err = stream.Send(ev.Name, "", ev.Data)
		}
		if err != nil {
			return nil // the view is gone; nobody reads an answer
		}
	}
}

func (h *handler) layouts(w http.ResponseWriter, r *http.Request) error {
	ls, err := h.opts.Wall.Layouts(r.Context())
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"layouts": ls})
	return nil
}

// named checks that a body's name, if any, is the path's, and returns it.
func named(r *http.Request, bodyName string) (string, error) {
	name := r.PathValue("name")
	if err := wall.CheckName(name); err != nil {
		return "", err
	}
	if bodyName != "" && bodyName != name {
		return "", &wall.FieldError{Field: "name", Message: fmt.Sprintf("%q differs from the name in the address, %q", bodyName, name)}
	}
	return name, nil
}

func (h *handler) putLayout(w http.ResponseWriter, r *http.Request) error {
	var l wall.Layout
	err := httpapi.Decode(w, r, maxBody, &l)
	if err == nil {
		l.Name, err = named(r, l.Name)
	}
	if err == nil {
		l, err = h.opts.Wall.PutLayout(r.Context(), l)
	}
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, l)
	return nil
}

func (h *handler) deleteLayout(w http.ResponseWriter, r *http.Request) error {
	if err := h.opts.Wall.DeleteLayout(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (h *handler) tours(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.opts.Wall.Tours(r.Context())
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"tours": ts})
	return nil
}

func (h *handler) putTour(w http.ResponseWriter, r *http.Request) error {
	var t wall.Tour
	err := httpapi.Decode(w, r, maxBody, &t)
	if err == nil {
		t.Name, err = named(r, t.Name)
	}
	if err == nil {
		t, err = h.opts.Wall.PutTour(r.Context(), t)
	}
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, t)
	return nil
}

func (h *handler) deleteTour(w http.ResponseWriter, r *http.Request) error {
	if err := h.opts.Wall.DeleteTour(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	noContent(w)
	return nil
}

// static serves the frontend. Paths without a file extension that name no
// file get index.html, so a reload on a view's route works.
func (h *handler) static(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		httpapi.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not served here")
		return
	}
	if h.opts.Assets == nil {
		httpapi.WriteError(w, http.StatusNotFound, "not_found", "this console was built without its frontend")
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	st, err := fs.Stat(h.opts.Assets, name)
	if err != nil || st.IsDir() {
		if path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
		name = "index.html"
	}
	if strings.HasPrefix(name, "assets/") {
		// Vite names these by content hash.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	if name == "index.html" {
		// ServeFileFS would redirect …/index.html to …/; serve it directly.
		b, err := fs.ReadFile(h.opts.Assets, name)
		if err != nil {
			httpapi.WriteError(w, http.StatusNotFound, "not_found", "the frontend has no index.html")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
		return
	}
	http.ServeFileFS(w, r, h.opts.Assets, name)
}
