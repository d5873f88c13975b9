// Package server is the console backend's HTTP face, the same for the Wails
// window and for a browser: the built frontend, the JSON API the view calls
// (/api/v1/…: bootstrap, session, cameras, events, layouts, tours) and the
// video bridge (/ws/video). Everything under /api/ and /ws/ needs the
// per-launch secret, except when the handler sits behind Wails'
// AssetServer, which only the webview can reach.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/events"
	"github.com/qianliyan/qianliyan/console/jsonapi"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/secret"
	"github.com/qianliyan/qianliyan/console/wall"
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

// Console is what the API needs of the backend. Errors that are a
// *jsonapi.Problem are answered as they say.
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
	// Routes are more API handlers by ServeMux pattern, behind the same
	// guard: the checklists and findings.
	Routes map[string]http.Handler
	Log    zerolog.Logger
}

type handler struct {
	opts Options
	mux  *http.ServeMux
}

// maxRequestBody bounds the JSON the view sends; a 25-tile layout or a
// tour of a thousand steps is well under it.
const maxRequestBody = 256 << 10

// New returns the handler.
func New(opts Options) http.Handler {
	if opts.BootstrapWait <= 0 {
		opts.BootstrapWait = 8 * time.Second
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 15 * time.Second
	}
	h := &handler{opts: opts, mux: http.NewServeMux()}
	h.route("/api/v1/bootstrap", methods{"GET": h.bootstrap})
	h.route("/api/v1/session", methods{"GET": h.session, "POST": h.signIn, "DELETE": h.signOut})
	h.route("/api/v1/cameras", methods{"GET": h.cameras})
	h.route("/api/v1/events", methods{"GET": h.events})
	h.route("/api/v1/layouts", methods{"GET": h.layouts})
	h.route("/api/v1/layouts/{name}", methods{"PUT": h.putLayout, "DELETE": h.deleteLayout})
	h.route("/api/v1/tours", methods{"GET": h.tours})
	h.route("/api/v1/tours/{name}", methods{"PUT": h.putTour, "DELETE": h.deleteTour})
	for pattern, route := range opts.Routes {
		h.mux.Handle(pattern, route)
	}
	h.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		jsonapi.Error(w, http.StatusNotFound, "not_found", "no API "+r.Method+" "+r.URL.Path)
	})
	if opts.Bridge != nil && !opts.Trusted {
		h.mux.Handle("/ws/video", opts.Bridge)
	}
	h.mux.HandleFunc("/ws/", func(w http.ResponseWriter, r *http.Request) {
		jsonapi.Error(w, http.StatusNotFound, "not_found", "no WebSocket at "+r.URL.Path+"; the video bridge address is in /api/v1/bootstrap")
	})
	h.mux.HandleFunc("/", h.static)
	return h
}

// methods maps HTTP methods to their handlers on one path.
type methods map[string]http.HandlerFunc

// route serves a path by method, answering others with a JSON 405; the
// mux's own is plain text.
func (h *handler) route(pattern string, ms methods) {
	var allow []string
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE"} {
		if ms[m] != nil || (m == "HEAD" && ms["GET"] != nil) {
			allow = append(allow, m)
		}
	}
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		m := r.Method
		if m == http.MethodHead {
			m = http.MethodGet
		}
		f := ms[m]
		if f == nil {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			jsonapi.Error(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s takes %s", r.URL.Path, strings.Join(allow, ", ")))
			return
		}
		f(w, r)
	})
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
		jsonapi.Error(w, http.StatusUnauthorized, "unauthorized", "launch token missing or wrong: use the address qianliyan printed")
		return
	}
	h.mux.ServeHTTP(w, r)
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

// fail answers err: a Problem as it says, bad input as 400 naming the
// field, a relay failure as 502, anything else as 500.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	if r.Context().Err() != nil {
		return // the view went away; nobody reads an answer
	}
	p := problemOf(what, err)
	switch {
	case p.Status >= http.StatusInternalServerError && p.Code == "internal":
		h.opts.Log.Error().Err(err).Str("path", r.URL.Path).Msg(what)
	case p.Status >= http.StatusInternalServerError:
		h.opts.Log.Warn().Err(err).Str("path", r.URL.Path).Msg(what)
	}
	jsonapi.WriteProblem(w, p)
}

// problemOf is the answer to err. An error the backend did not describe is
// not shown to the view, which gets a pointer to the log instead.
func problemOf(what string, err error) *jsonapi.Problem {
	var p *jsonapi.Problem
	var fe *wall.FieldError
	var rerr *relayclient.Error
	var nerr net.Error
	var uerr *url.Error
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &fe):
		return &jsonapi.Problem{Status: http.StatusBadRequest, Code: "bad_request", Message: fe.Error(), Field: fe.Field, Err: err}
	case errors.As(err, &rerr):
		return &jsonapi.Problem{Status: http.StatusBadGateway, Code: "relay_error", Message: err.Error(), Err: err}
	case errors.As(err, &uerr), errors.As(err, &nerr):
		return &jsonapi.Problem{Status: http.StatusBadGateway, Code: "relay_unreachable", Message: err.Error(), Err: err}
	}
	return &jsonapi.Problem{Status: http.StatusInternalServerError, Code: "internal", Message: what + " failed; the console's log says why", Err: err}
}

// decode reads the JSON body into v, refusing unknown fields so that a
// misspelt one is not silently dropped.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &jsonapi.Problem{Status: http.StatusUnsupportedMediaType, Code: "bad_content_type", Message: fmt.Sprintf("content type %q: want application/json", ct)}
		}
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRequestBody+1))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		field := typeErr.Field
		return &jsonapi.Problem{Status: http.StatusBadRequest, Code: "bad_request", Field: field,
			Message: fmt.Sprintf("%s: %s is not a %s", field, typeErr.Value, typeName(typeErr.Type.Kind().String())), Err: err}
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return &jsonapi.Problem{Status: http.StatusBadRequest, Code: "bad_request", Message: "the body is not valid JSON: " + err.Error(), Err: err}
	case errors.Is(err, io.EOF):
		return &jsonapi.Problem{Status: http.StatusBadRequest, Code: "bad_request", Message: "the body is empty; want JSON", Err: err}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &jsonapi.Problem{Status: http.StatusBadRequest, Code: "bad_request", Field: field, Message: fmt.Sprintf("unknown field %q", field), Err: err}
	default:
		return &jsonapi.Problem{Status: http.StatusBadRequest, Code: "bad_request", Message: "reading the body: " + err.Error(), Err: err}
	}
}

func typeName(kind string) string {
	switch kind {
	case "int", "int64", "float64":
		return "whole number"
	case "slice":
		return "list"
	case "struct", "map":
		return "JSON object"
	}
	return kind
}

func (h *handler) bootstrap(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.BootstrapWait)
	defer cancel()
	b, err := h.opts.Console.Bootstrap(ctx)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		w.Header().Set("Retry-After", "1")
		jsonapi.Error(w, http.StatusServiceUnavailable, "starting", "the console is still starting")
		return
	case err != nil:
		h.opts.Log.Warn().Err(err).Msg("bootstrap of a console that did not start")
		jsonapi.Error(w, http.StatusServiceUnavailable, "start_failed", err.Error())
		return
	}
	b.Token = h.opts.Secret
	if h.opts.Bridge != nil && !h.opts.Trusted {
		// The browser reaches the bridge where it reached this page.
		b.Bridge = (&url.URL{Scheme: "ws", Host: r.Host, Path: "/ws/video"}).String()
	}
	jsonapi.Write(w, http.StatusOK, b)
}

func (h *handler) session(w http.ResponseWriter, r *http.Request) {
	jsonapi.Write(w, http.StatusOK, h.opts.Console.Session(r.Context()))
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) {
	var in SignIn
	if err := decode(r, &in); err != nil {
		h.fail(w, r, "signing in", err)
		return
	}
	s, err := h.opts.Console.SignIn(r.Context(), in)
	if err != nil {
		h.fail(w, r, "signing in", err)
		return
	}
	jsonapi.Write(w, http.StatusOK, s)
}

func (h *handler) signOut(w http.ResponseWriter, r *http.Request) {
	if err := h.opts.Console.SignOut(r.Context()); err != nil {
		h.fail(w, r, "signing out", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) cameras(w http.ResponseWriter, r *http.Request) {
	cams, err := h.opts.Console.Cameras(r.Context())
	if err != nil {
		h.fail(w, r, "listing cameras", err)
		return
	}
	if cams == nil {
		cams = []relayclient.Camera{}
	}
	jsonapi.Write(w, http.StatusOK, map[string]any{"cameras": cams})
}

// events serves the event stream as Server-Sent Events until the view
// leaves, falls behind, or the console stops. Signed out, it starts with a
// session event saying so; sign-ins and sign-outs follow as they happen.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	sub := h.opts.Console.Events()
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if s := h.opts.Console.Session(r.Context()); !s.SignedIn {
		if s.Reason == "" {
			s.Reason = "signed_out"
		}
		data, _ := json.Marshal(s)
		if writeEvent(w, events.Event{Name: events.Session, Data: data}) != nil {
			return
		}
	}
	if err := rc.Flush(); err != nil {
		h.opts.Log.Warn().Err(err).Msg("event stream cannot be flushed")
		return
	}
	keep := time.NewTicker(h.opts.KeepAlive)
	defer keep.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			_, err = io.WriteString(w, ": keepalive\n\n")
		case ev, ok := <-sub.C():
			if !ok {
				return
			}
			err = writeEvent(w, ev)
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// writeEvent writes one event; data lines are split so that a newline in
// the JSON cannot end the event early.
func writeEvent(w io.Writer, ev events.Event) error {
	var b strings.Builder
	b.WriteString("event: " + ev.Name + "\n")
	for _, line := range strings.Split(string(ev.Data), "\n") {
		b.WriteString("data: " + strings.TrimSuffix(line, "\r") + "\n")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (h *handler) layouts(w http.ResponseWriter, r *http.Request) {
	ls, err := h.opts.Wall.Layouts(r.Context())
	if err != nil {
		h.fail(w, r, "listing layouts", err)
		return
	}
	jsonapi.Write(w, http.StatusOK, map[string]any{"layouts": ls})
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

func (h *handler) putLayout(w http.ResponseWriter, r *http.Request) {
	var l wall.Layout
	err := decode(r, &l)
	if err == nil {
		l.Name, err = named(r, l.Name)
	}
	if err == nil {
		l, err = h.opts.Wall.PutLayout(r.Context(), l)
	}
	if err != nil {
		h.fail(w, r, "saving layout", err)
		return
	}
	jsonapi.Write(w, http.StatusOK, l)
}

func (h *handler) deleteLayout(w http.ResponseWriter, r *http.Request) {
	if err := h.opts.Wall.DeleteLayout(r.Context(), r.PathValue("name")); err != nil {
		h.fail(w, r, "deleting layout", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) tours(w http.ResponseWriter, r *http.Request) {
	ts, err := h.opts.Wall.Tours(r.Context())
	if err != nil {
		h.fail(w, r, "listing tours", err)
		return
	}
	jsonapi.Write(w, http.StatusOK, map[string]any{"tours": ts})
}

func (h *handler) putTour(w http.ResponseWriter, r *http.Request) {
	var t wall.Tour
	err := decode(r, &t)
	if err == nil {
		t.Name, err = named(r, t.Name)
	}
	if err == nil {
		t, err = h.opts.Wall.PutTour(r.Context(), t)
	}
	if err != nil {
		h.fail(w, r, "saving tour", err)
		return
	}
	jsonapi.Write(w, http.StatusOK, t)
}

func (h *handler) deleteTour(w http.ResponseWriter, r *http.Request) {
	if err := h.opts.Wall.DeleteTour(r.Context(), r.PathValue("name")); err != nil {
		h.fail(w, r, "deleting tour", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// static serves the frontend. Paths without a file extension that name no
// file get index.html, so a reload on a view's route works.
func (h *handler) static(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		jsonapi.Error(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not served here")
		return
	}
	if h.opts.Assets == nil {
		jsonapi.Error(w, http.StatusNotFound, "not_found", "this console was built without its frontend")
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
			jsonapi.Error(w, http.StatusNotFound, "not_found", "the frontend has no index.html")
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
