// Package server is the console backend's HTTP face, the same for the Wails
// window and for a browser: the built frontend, the small JSON API the view
// calls (/api/v1/…) and the video bridge (/ws/video). Everything under /api/
// and /ws/ needs the per-launch secret, except when the handler sits behind
// Wails' AssetServer, which only the webview can reach.
package server

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/jsonapi"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/secret"
)

// Bootstrap is what the view learns first (GET /api/v1/bootstrap).
type Bootstrap struct {
	Bridge        string           `json:"bridge"`
	Token         string           `json:"token"`
	Relay         string           `json:"relay"`
	User          relayclient.User `json:"user"`
	DefaultCamera string           `json:"default_camera"`
}

// Console is what the API needs of the backend.
type Console interface {
	// Bootstrap waits until the backend has signed in, or failed to.
	Bootstrap(ctx context.Context) (Bootstrap, error)
	Cameras(ctx context.Context) ([]relayclient.Camera, error)
}

// Options configures the handler.
type Options struct {
	// Assets is the built frontend, index.html at its root.
	Assets  fs.FS
	Console Console
	Secret  string
	// Trusted handlers need no secret: they sit behind Wails' AssetServer,
	// whose requests come from the webview only.
	Trusted bool
	// Bridge serves /ws/video on this handler's own address, which the
	// bootstrap then names; without it the console's bridge is named.
	Bridge http.Handler
	// BootstrapWait bounds how long the view's first request waits for a
	// sign-in still in progress (8 s); the view retries after the 503.
	BootstrapWait time.Duration
	Log           zerolog.Logger
}

type handler struct {
	opts Options
	mux  *http.ServeMux
}

// New returns the handler.
func New(opts Options) http.Handler {
	if opts.BootstrapWait <= 0 {
		opts.BootstrapWait = 8 * time.Second
	}
	h := &handler{opts: opts, mux: http.NewServeMux()}
	h.mux.HandleFunc("/api/v1/bootstrap", getOnly(h.bootstrap))
	h.mux.HandleFunc("/api/v1/cameras", getOnly(h.cameras))
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

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The browser-mode address carries the secret: keep it out of Referer
	// headers, and the page out of other sites' frames.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	guarded := strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/ws/")
	if guarded && !h.opts.Trusted && !secret.Matches(r, h.opts.Secret) {
		jsonapi.Error(w, http.StatusUnauthorized, "unauthorized", "launch token missing or wrong: use the address qianliyan printed")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// getOnly answers other methods with a JSON 405; the mux's own is plain text.
func getOnly(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			jsonapi.Error(w, http.StatusMethodNotAllowed, "method_not_allowed", r.URL.Path+" takes GET")
			return
		}
		f(w, r)
	}
}

func (h *handler) bootstrap(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.BootstrapWait)
	defer cancel()
	b, err := h.opts.Console.Bootstrap(ctx)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		w.Header().Set("Retry-After", "1")
		jsonapi.Error(w, http.StatusServiceUnavailable, "starting", "the console is still signing in to the relay")
		return
	case err != nil:
		h.opts.Log.Warn().Err(err).Msg("bootstrap without a relay session")
		jsonapi.Error(w, http.StatusServiceUnavailable, "sign_in_failed", err.Error())
		return
	}
	b.Token = h.opts.Secret
	if h.opts.Bridge != nil && !h.opts.Trusted {
		// The browser reaches the bridge where it reached this page.
		b.Bridge = (&url.URL{Scheme: "ws", Host: r.Host, Path: "/ws/video"}).String()
	}
	jsonapi.Write(w, http.StatusOK, b)
}

func (h *handler) cameras(w http.ResponseWriter, r *http.Request) {
	cams, err := h.opts.Console.Cameras(r.Context())
	if err != nil {
		code := "relay_error"
		var rerr *relayclient.Error
		var nerr net.Error
		var uerr *url.Error
		if !errors.As(err, &rerr) && (errors.As(err, &uerr) || errors.As(err, &nerr)) {
			code = "relay_unreachable"
		}
		h.opts.Log.Warn().Err(err).Msg("listing cameras")
		jsonapi.Error(w, http.StatusBadGateway, code, err.Error())
		return
	}
	if cams == nil {
		cams = []relayclient.Camera{}
	}
	jsonapi.Write(w, http.StatusOK, map[string]any{"cameras": cams})
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
