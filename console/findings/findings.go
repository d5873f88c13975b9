// Package findings is the console API duty officers observe and flag with:
// the checklists for a camera's zone, observation runs evaluated by package
// checklist, findings committed to the console store with their snapshot,
// the clip cut around the observed frame, and the evidence files.
package findings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/checklist"
	"github.com/qianliyan/qianliyan/console/jsonapi"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
)

// Console is what the API needs of the console's relay session.
type Console interface {
	// Cameras is the relay's camera list.
	Cameras(ctx context.Context) ([]relayclient.Camera, error)
	// Observer is the signed-in user's name and the base URL of the relay
	// they signed in to, which a finding is flagged under; an error when
	// nobody is.
	Observer(ctx context.Context) (name, relay string, err error)
}

// Frames maps the presentation time of a frame the view showed to when the
// console received it; *evidence.Buffers does.
type Frames interface {
	Locate(key media.Key, pts time.Duration) (time.Time, error)
}

// Clips records a finding's clip once the finding is committed;
// *evidence.Recorder does.
type Clips interface {
	Record(id string, key media.Key, observedAt time.Time) error
}

// Options configures the API.
type Options struct {
	Store   *store.Store
	Console Console
	Frames  Frames
	Clips   Clips
	// Templates is the folder of supervisors' checklist templates, read
	// afresh on every request so that a dropped-in file counts at once.
	Templates string
	// Now is the clock of run timers, deadlines and flag times (time.Now).
	Now func() time.Time
	// MaxSnapshotBytes caps the decoded snapshot (2 MiB).
	MaxSnapshotBytes int
	// MaxRuns caps the runs kept in memory; the oldest go first (1000).
	MaxRuns int
	Log     zerolog.Logger
}

// Defaults.
const (
	DefaultMaxSnapshotBytes = 2 << 20
	defaultMaxRuns          = 1000
	// smallBody caps every request body but a flag's.
	smallBody = 64 << 10
	// cameraListWait bounds the relay round trip a flag may wait for; a
	// slower relay is answered from the last list it sent.
	cameraListWait = 3 * time.Second
)

// API serves /api/v1/checklists, /runs, /findings and /evidence.
type API struct {
	opts Options
	mux  *http.ServeMux
	runs *runs

	mu      sync.Mutex
	cameras []relayclient.Camera // the last list the relay sent

	libMu  sync.Mutex
	lib    *checklist.Library
	libSig string // of the templates folder when lib was read
}

// New returns the API.
func New(opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxSnapshotBytes <= 0 {
		opts.MaxSnapshotBytes = DefaultMaxSnapshotBytes
	}
	if opts.MaxRuns <= 0 {
		opts.MaxRuns = defaultMaxRuns
	}
	a := &API{opts: opts, mux: http.NewServeMux(), runs: newRuns(opts.MaxRuns)}
	a.route("/api/v1/checklists", methods{http.MethodGet: a.checklists})
	a.route("/api/v1/runs", methods{http.MethodPost: a.createRun})
	a.route("/api/v1/runs/{id}/marks", methods{http.MethodPost: a.mark})
	a.route("/api/v1/runs/{id}/timers", methods{http.MethodPost: a.timer})
	a.route("/api/v1/findings", methods{http.MethodGet: a.list, http.MethodPost: a.flag})
	a.route("/api/v1/findings/{id}", methods{http.MethodGet: a.get, http.MethodPatch: a.edit})
	a.route("/api/v1/findings/{id}/withdraw", methods{http.MethodPost: a.withdraw})
	a.route("/api/v1/findings/{id}/verify", methods{http.MethodPost: a.recheck("verified")})
	a.route("/api/v1/findings/{id}/reopen", methods{http.MethodPost: a.recheck("reopened")})
	a.route("/api/v1/findings/{id}/retry", methods{http.MethodPost: a.retry})
	a.route("/api/v1/evidence/{file}", methods{http.MethodGet: a.evidence})
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, a.opts.Log, fail(http.StatusNotFound, "not_found", "", "no API %s %s", r.Method, r.URL.Path))
	})
	return a
}

// Patterns are the ServeMux patterns the API answers under, for the
// console's handler to mount it at behind its guard.
var Patterns = []string{
	"/api/v1/checklists", "/api/v1/runs", "/api/v1/runs/",
	"/api/v1/findings", "/api/v1/findings/", "/api/v1/evidence/",
}

// Routes are Patterns, each with the API.
func (a *API) Routes() map[string]http.Handler {
	routes := make(map[string]http.Handler, len(Patterns))
	for _, p := range Patterns {
		routes[p] = a
	}
	return routes
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// handlerFunc is an API handler: it writes its answer, or returns the
// error to answer with.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type methods map[string]handlerFunc

// route serves pattern with a handler per method, answering other methods
// with a JSON 405 (the mux's own is plain text).
func (a *API) route(pattern string, ms methods) {
	var allow []string
	for m := range ms {
		allow = append(allow, m)
	}
	if _, ok := ms[http.MethodGet]; ok {
		allow = append(allow, http.MethodHead)
	}
	allowed := strings.Join(sortedMethods(allow), ", ")
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		h, ok := ms[method]
		if !ok {
			w.Header().Set("Allow", allowed)
			writeError(w, a.opts.Log, fail(http.StatusMethodNotAllowed, "method_not_allowed", "", "%s takes %s", r.URL.Path, allowed))
			return
		}
		if err := h(w, r); err != nil {
			writeError(w, a.opts.Log, err)
		}
	})
}

func sortedMethods(ms []string) []string {
	order := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch}
	var out []string
	for _, m := range order {
		for _, have := range ms {
			if have == m {
				out = append(out, m)
			}
		}
	}
	return out
}

// fail is an answer other than success: a status, a code the view tells
// apart, the request field at fault if one is, and a message.
func fail(status int, code, field, format string, args ...any) *jsonapi.Problem {
	return &jsonapi.Problem{Status: status, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// invalid is a 400 naming the field at fault.
func invalid(field, format string, args ...any) *jsonapi.Problem {
	return fail(http.StatusBadRequest, "invalid_field", field, field+": "+format, args...)
}

// writeError answers with err: a *jsonapi.Problem as it says, anything else
// as a 500 whose detail goes to the log only.
func writeError(w http.ResponseWriter, log zerolog.Logger, err error) {
	var p *jsonapi.Problem
	if !errors.As(err, &p) {
		log.Error().Err(err).Msg("findings API")
		p = fail(http.StatusInternalServerError, "internal", "", "the console could not do that; see its log")
	}
	jsonapi.WriteProblem(w, p)
}

// decode reads a JSON body of at most limit bytes into v.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return fail(http.StatusUnsupportedMediaType, "bad_content_type", "", "the body must be application/json, not %q", r.Header.Get("Content-Type"))
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return fail(http.StatusRequestEntityTooLarge, "body_too_large", "", "the body is over %d bytes", tooBig.Limit)
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return invalid(typeErr.Field, "want a JSON %s, not %s", typeErr.Type, typeErr.Value)
		default:
			return fail(http.StatusBadRequest, "bad_request", "", "the body is not the JSON expected: %v", err)
		}
	}
	if dec.More() {
		return fail(http.StatusBadRequest, "bad_request", "", "the body holds more than one JSON value")
	}
	return nil
}

// fromStore turns the store's refusals into answers.
func fromStore(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(http.StatusNotFound, "unknown_finding", "", "%v", err)
	case errors.Is(err, store.ErrForwarded):
		return fail(http.StatusConflict, "forwarded", "", "%v", err)
	case errors.Is(err, store.ErrInvalid):
		return fail(http.StatusBadRequest, "invalid_field", "", "%v", err)
	default:
		return err
	}
}

// observer is the signed-in user, who every change is made by.
func (a *API) observer(ctx context.Context) (string, error) {
	name, _, err := a.signedIn(ctx)
	return name, err
}

// signedIn is the signed-in user and their relay.
func (a *API) signedIn(ctx context.Context) (name, relay string, err error) {
	name, relay, err = a.opts.Console.Observer(ctx)
	var p *jsonapi.Problem
	if errors.As(err, &p) && p.Status == http.StatusUnauthorized {
		return "", "", p // signed out, or the session expired: the view knows both
	}
	if err != nil || name == "" || relay == "" {
		return "", "", fail(http.StatusUnauthorized, "signed_out", "", "sign in to the relay first: findings are made in a duty officer's name")
	}
	return name, relay, nil
}

// camera finds "site/camera" in the relay's list, or in the last list the
// relay sent when it does not answer in time: a flag must not be lost to a
// slow relay.
func (a *API) camera(ctx context.Context, field, path string) (relayclient.Camera, error) {
	site, id, ok := strings.Cut(path, "/")
	if !ok || site == "" || id == "" || strings.Contains(id, "/") {
		return relayclient.Camera{}, invalid(field, "%q is not SITE/CAMERA", path)
	}
	ctx, cancel := context.WithTimeout(ctx, cameraListWait)
	defer cancel()
	cams, err := a.opts.Console.Cameras(ctx)
	a.mu.Lock()
	if err == nil {
		a.cameras = cams
	} else {
		cams = a.cameras
	}
	a.mu.Unlock()
	if err != nil && cams == nil {
		var p *jsonapi.Problem
		if errors.As(err, &p) {
			return relayclient.Camera{}, p
		}
		a.opts.Log.Warn().Err(err).Msg("listing cameras")
		return relayclient.Camera{}, fail(http.StatusBadGateway, "relay_unreachable", "", "the relay's camera list is not available: %v", err)
	}
	for _, c := range cams {
		if c.Site == site && c.ID == id {
			return c, nil
		}
	}
	return relayclient.Camera{}, fail(http.StatusBadRequest, "unknown_camera", field, "%s: camera %s is not in the relay's list", field, path)
}
