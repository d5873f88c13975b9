package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/rs/zerolog"
)

// HandlerFunc is an endpoint: it writes its answer, or returns the error to
// answer with (see WriteFault).
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Methods maps HTTP methods to the handlers of one path. GET also serves
// HEAD.
type Methods map[string]HandlerFunc

// Router is a ServeMux whose routes answer every failure in JSON: a method
// a path does not take gets 405 with Allow, an unknown path 404, a
// handler's error the answer WriteFault gives it.
type Router struct {
	mux *http.ServeMux
	log zerolog.Logger
	// mapErr turns a core's own errors (sentinels of a store, say) into
	// faults before they are answered; nil leaves errors as they are.
	mapErr func(error) error
}

// NewRouter returns an empty Router. mapErr, when not nil, is applied to
// every error a handler returns.
func NewRouter(log zerolog.Logger, mapErr func(error) error) *Router {
	return &Router{mux: http.NewServeMux(), log: log, mapErr: mapErr}
}

// methodOrder is the order Allow lists methods in.
var methodOrder = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// Route serves pattern (a ServeMux pattern without a method) by method.
func (rt *Router) Route(pattern string, ms Methods) {
	var allow []string
	for _, m := range methodOrder {
		if ms[m] != nil || (m == http.MethodHead && ms[http.MethodGet] != nil) {
			allow = append(allow, m)
		}
	}
	allowed := strings.Join(allow, ", ")
	rt.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		m := r.Method
		if m == http.MethodHead {
			m = http.MethodGet
		}
		h := ms[m]
		if h == nil {
			w.Header().Set("Allow", allowed)
			WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.Path, allowed))
			return
		}
		if err := h(w, r); err != nil {
			rt.Fail(w, r, err)
		}
	})
}

// Handle serves pattern with a plain handler (a page, a file server, a
// WebSocket), which answers for itself.
func (rt *Router) Handle(pattern string, h http.Handler) { rt.mux.Handle(pattern, h) }

// Fail answers err as a route's error would be: for handlers that write
// part of their answer themselves.
func (rt *Router) Fail(w http.ResponseWriter, r *http.Request, err error) {
	if rt.mapErr != nil {
		err = rt.mapErr(err)
	}
	WriteFault(w, r, rt.log, err)
}

// ServeHTTP serves the routes; a path none matches gets a JSON 404.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := rt.mux.Handler(r); pattern == "" {
		WriteError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
		return
	}
	rt.mux.ServeHTTP(w, r)
}
