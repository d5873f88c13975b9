// Package api is the relay's HTTP surface: health, metrics, sign-in and
// token refresh, the camera list with each camera's health and its event
// stream, the findings, and the WHIP and WHEP endpoints, wired to the
// packages that do the work. It is handlers only: answers, errors
// ({"error":{"code":"…","message":"…"}}), request bodies, routes and event
// streams are internal/httpapi's, and the cores' errors become answers in
// one place, faultOf.
package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/health"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/peer"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/whep"
	"github.com/qianliyan/qianliyan/relay/whip"
)

// Store is what the API reads from the database.
type Store interface {
	Sites(ctx context.Context) ([]store.Site, error)
	Cameras(ctx context.Context) ([]store.Camera, error)
	Camera(ctx context.Context, site, id string) (store.Camera, error)
	User(ctx context.Context, name string) (store.User, error)
	TokenGenerations(ctx context.Context) (map[string]int64, error)
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
	End(ctx context.Context, site, camera, id string) error
}

// Config is what the API needs.
type Config struct {
	Store  Store
	Signer *auth.Signer
	Logins *auth.LoginLimiter
	// Leases hold what users hold open (WHEP sessions, event streams, long
	// polls) to their limits, ending each when its sign-in no longer
	// holds; the relay runs their checks (Leases.Run). When nil, New makes
	// one without limits whose checks nobody runs.
	Leases  *auth.Leases
	Streams Streams
	Changes Changes
	WHIP    Publisher
	WHEP    Player
	// Metrics, when set, counts sign-ins and is served at /metrics.
	Metrics Metrics
	// MaxSDPBytes caps SDP and sign-in request bodies.
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
	// Runs, when set, serves the checklist runs and their statistics (runs.go).
	Runs Runs
	// Shifts, when set, serves shifts, duty and handover (shifts.go), and
	// puts duty officers on duty as they sign in.
	Shifts Shifts
	// Coverage, when set, serves watch coverage (coverage.go).
	Coverage Coverage
	// Review, when set, serves the supervisors' review of recorded
	// findings (review.go), its days in ReportZone.
	Review Review
	// ReportZone is the duty room's time zone, in which reports and
	// exports give days and times (reports.go) and the review's filter
	// reads them.
	ReportZone *time.Location
	// Reports, when set, serves the supervisors' reports, the review
	// list's export (with ReviewList) and the record of documents made
	// (Audit, required with it) (reports.go, audit.go).
	Reports    Reports
	Audit      Audit
	ReviewList ReviewList
	// Stats, when set, serves the supervisors' statistics and the on-site
	// follow-up list (stats.go).
	Stats Stats
	// Notices, when set, serves the 监督意见书 (notices.go).
	Notices Notices
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
	if cfg.ReportZone == nil {
		cfg.ReportZone = time.UTC
	}
	if cfg.Leases == nil {
		cfg.Leases = auth.NewLeases(auth.LeasesConfig{Users: cfg.Store, Now: cfg.Now, Log: cfg.Log})
	}
	s := &server{cfg}
	rt := httpapi.NewRouter(s.Log, faultOf)
	rt.Route("/healthz", httpapi.Methods{http.MethodGet: s.health})
	if s.Metrics != nil {
		metrics := s.Metrics.Handler()
		rt.Route("/metrics", httpapi.Methods{http.MethodGet: func(w http.ResponseWriter, r *http.Request) error {
			metrics.ServeHTTP(w, r)
			return nil
		}})
	}
	rt.Route("/api/v1/login", httpapi.Methods{http.MethodPost: s.login})
	rt.Route("/api/v1/token/refresh", httpapi.Methods{http.MethodPost: s.refresh})
	rt.Route("/api/v1/cameras", httpapi.Methods{http.MethodGet: s.cameras})
	rt.Route("/api/v1/events", httpapi.Methods{http.MethodGet: s.events})
	s.mountMedia(rt)
	if s.Findings != nil {
		s.mountFindings(rt)
	}
	if s.Runs != nil {
		s.mountRuns(rt)
	}
	if s.Shifts != nil {
		s.mountShifts(rt)
	}
	if s.Coverage != nil {
		s.mountCoverage(rt)
	}
	if s.Review != nil {
		s.mountReview(rt)
	}
	if s.Stats != nil {
		s.mountStats(rt)
	}
	if s.Reports != nil {
		s.mountReports(rt)
	}
	if s.Notices != nil {
		s.mountNotices(rt)
	}
	if s.SitePage != nil {
		rt.Handle("/site/", s.SitePage)
		rt.Handle("GET /site", http.RedirectHandler("/site/", http.StatusMovedPermanently))
	}
	return httpapi.Logged(s.Log, httpapi.Recovered(s.Log, rt))
}

// faultOf is where the cores' errors become the answers clients get: a
// handler returns what a core returned, and only here is it given a
// status and a code. Errors that are already faults pass as they are;
// the rest are the relay's own failures (500, logged).
func faultOf(err error) error {
	if fault.As(err) != nil {
		return err
	}
	var te *findings.TransitionError
	switch {
	case errors.As(err, &te):
		return fault.New(fault.Conflict, "bad_transition", "%w", err)
	case errors.Is(err, findings.ErrNotFound):
		return fault.New(fault.NotFound, "unknown_finding", "%w", err)
	case errors.Is(err, findings.ErrUnknownSite):
		return fault.New(fault.NotFound, "unknown_site", "%w", err)
	case errors.Is(err, findings.ErrBadEvidence):
		return fault.New(fault.NotFound, "unknown_evidence", "%w", err)
	case errors.Is(err, findings.ErrConflict):
		return fault.New(fault.Conflict, "conflict", "%w", err)
	case errors.Is(err, findings.ErrForbidden):
		return fault.New(fault.Forbidden, "forbidden", "%w", err)
	case errors.Is(err, findings.ErrInvalid):
		return fault.New(fault.Unprocessable, "invalid_field", "%w", err)
	case errors.Is(err, findings.ErrTooLarge):
		return fault.New(fault.TooLarge, "body_too_large", "%w", err)
	case errors.Is(err, findings.ErrContentType):
		return fault.New(fault.UnsupportedType, "bad_content_type", "%w", err)
	case errors.Is(err, findings.ErrDigest):
		return fault.New(fault.Invalid, "digest_mismatch", "%w", err)
	// The only record the API looks up by its path is a camera: a user
	// missing is a sign-in refused, answered where users are read.
	case errors.Is(err, store.ErrNotFound):
		return fault.New(fault.NotFound, "unknown_camera", "%w", err)
	case errors.Is(err, peer.ErrBadOffer):
		return fault.New(fault.Invalid, "bad_sdp", "%w", err)
	case errors.Is(err, hub.ErrAlreadyPublishing):
		return fault.New(fault.Conflict, "already_publishing", "%w", err)
	case errors.Is(err, whep.ErrCameraOffline):
		return &fault.Error{Kind: fault.Conflict, Code: "camera_offline", Message: "the camera has no live stream; retry shortly", Err: err}
	case errors.Is(err, whip.ErrUnknownSession), errors.Is(err, whep.ErrUnknownSession):
		return &fault.Error{Kind: fault.NotFound, Code: "unknown_session", Message: "no such session", Err: err}
	}
	return err
}

func (s *server) health(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}
