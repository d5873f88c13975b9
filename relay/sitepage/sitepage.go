// Package sitepage is the site managers' web page, served by the relay at
// /site/: server-rendered HTML in Chinese and English, usable on a phone.
// A site manager signs in with their relay account, sees their sites'
// findings (what needs them first, with the deadline's countdown), the
// snapshot and clip, and acknowledges and reports rectification with a
// note and photos. Duty officers and supervisors may look, read-only.
package sitepage

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Findings is what the page reads and changes (relay/findings.Store).
type Findings interface {
	List(ctx context.Context, by auth.Principal, flt findings.Filter) ([]findings.Finding, error)
	Get(ctx context.Context, by auth.Principal, id string) (findings.Finding, error)
	// An action is checked before its form's photos are read, the photos
	// written to disk as they arrive, then the action applied with them
	// (rectify.go).
	Check(ctx context.Context, by auth.Principal, id string, req findings.Request) (done bool, err error)
	ReceivePhoto(r io.Reader) (*findings.Upload, error)
	ActWithPhotos(ctx context.Context, by auth.Principal, id string, req findings.Request, photos []*findings.Upload) (findings.Finding, error)
	Open(ctx context.Context, by auth.Principal, id, name string) (*os.File, findings.File, error)
	// The changes cursor an open page follows (see follow.go).
	Cursor(ctx context.Context) (int64, error)
	Touches(ctx context.Context, by auth.Principal, after int64, limit int) ([]findings.Touch, int64, error)
	Changed() <-chan struct{}
}

// Users and sites as the relay database has them.
type Users interface {
	User(ctx context.Context, name string) (store.User, error)
	Sites(ctx context.Context) ([]store.Site, error)
	Camera(ctx context.Context, site, id string) (store.Camera, error)
	// AdvanceTokenGeneration signs the user out everywhere (session.go).
	AdvanceTokenGeneration(ctx context.Context, name string) (int64, error)
}

// Config is what the page needs.
type Config struct {
	Findings Findings
	Users    Users
	Signer   *auth.Signer
	// TokenTTL is the lifetime of the Signer's tokens: a session past half
	// of it is renewed.
	TokenTTL time.Duration
	// Logins limits failed sign-ins (shared with the API's); optional.
	Logins *auth.LoginLimiter
	// Leases, shared with the API's, bound and end the long polls of open
	// pages (follow.go); optional.
	Leases *auth.Leases
	Now    func() time.Time
	Log    zerolog.Logger
	// Stopping, closed when the relay shuts down, ends waiting requests
	// of open pages (optional).
	Stopping <-chan struct{}
	// Notices, when set, are shown with the findings (notices.go).
	Notices Notices
}

// Cookies.
const (
	sessionCookie = "qly_site_session" // the relay login token
	loginCookie   = "qly_site_login"   // the sign-in form's CSRF secret
	langCookie    = "qly_lang"
	cookiePath    = "/site/"
)

// closedShown is how long a verified or withdrawn finding stays listed.
const closedShown = 30 * 24 * time.Hour

type page struct {
	Config
	csrfKey []byte
	tmpl    map[string]*template.Template
	static  http.Handler
	uploads chan struct{} // a slot for each upload received at once (rectify.go)
}

// New returns the page's handler; mount it at /site/.
func New(cfg Config) (http.Handler, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &page{Config: cfg, csrfKey: make([]byte, 32), tmpl: map[string]*template.Template{}, uploads: make(chan struct{}, MaxUploads)}
	if _, err := rand.Read(p.csrfKey); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{"t": phrases.In}
	for _, name := range []string{"login", "list", "finding", "message", "notice"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		p.tmpl[name] = t
	}
	sub, _ := fs.Sub(staticFS, "static")
	p.static = http.StripPrefix("/site/static/", http.FileServerFS(sub))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /site/{$}", p.list)
	mux.HandleFunc("GET /site/login", p.loginForm)
	mux.HandleFunc("POST /site/login", p.login)
	mux.HandleFunc("POST /site/logout", p.logout)
	mux.HandleFunc("GET /site/lang/{lang}", p.setLanguage)
	mux.HandleFunc("GET /site/findings/{id}", p.finding)
	mux.HandleFunc("POST /site/findings/{id}/acknowledge", p.acknowledge)
	mux.HandleFunc("POST /site/findings/{id}/rectify", p.rectify)
	mux.HandleFunc("GET /site/evidence/{id}/{name}", p.evidence)
	if cfg.Notices != nil {
		p.mountNotices(mux)
	}
	// The one route a script reads rather than a person: JSON answers and
	// errors, through the API's HTTP layer.
	follow := httpapi.NewRouter(cfg.Log, nil)
	follow.Route("/site/changes", httpapi.Methods{http.MethodGet: p.changes})
	mux.Handle("/site/changes", follow)
	mux.Handle("GET /site/static/", p.static)
	mux.HandleFunc("/site/", func(w http.ResponseWriter, r *http.Request) {
		p.message(w, r, http.StatusNotFound, "not_found")
	})
	return secured(mux), nil
}

// secured sets the headers every answer carries: the page loads only its
// own assets and may not be framed.
func secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob:; media-src 'self'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// view is what every template gets.
type view struct {
	Lang   string
	User   *auth.Principal
	CSRF   string
	Error  string
	Notice string
	Data   any
	// Path is the page's own, where the language switch returns to.
	Path string
	// Cursor, when set, is the changes cursor the page was read at: its
	// script asks /site/changes for what changed after it.
	Cursor *int64
	// Notices are the list's 监督意见书; InNotice, on a finding's page, the
	// one it is an item of (notices.go).
	Notices  []noticeRow
	InNotice *noticeLink
}

func (p *page) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	if v.Lang == "" {
		v.Lang = language(r)
	}
	v.Path = "/site/"
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/site/findings/") {
		v.Path = r.URL.Path
	}
	if r.Method == http.MethodGet && noticePath(r.URL.Path) != "" {
		v.Path = r.URL.Path
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Language", v.Lang)
	w.WriteHeader(status)
	if err := p.tmpl[name].Execute(w, v); err != nil {
		p.Log.Warn().Err(err).Str("page", name).Msg("rendering the site page")
	}
}

func (p *page) message(w http.ResponseWriter, r *http.Request, status int, key string) {
	lang := language(r)
	p.render(w, r, status, "message", view{Lang: lang, Error: phrases.In(lang, key)})
}

func (p *page) setLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if !bilingual.Known(lang) {
		p.message(w, r, http.StatusNotFound, "not_found")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: cookiePath, MaxAge: 365 * 24 * 3600,
		SameSite: http.SameSiteStrictMode, Secure: secure(r)})
	http.Redirect(w, r, backTo(r.URL.Query().Get("back")), http.StatusSeeOther)
}

// backTo is where the language switch returns: the page it was used on
// (view.Path), which is the list, a finding's or a notice's page. Anything else (a
// path made to be read by the browser as another host's, with dot
// segments, backslashes or a scheme) returns to the list.
func backTo(to string) string {
	const list, finding = "/site/", "/site/findings/"
	if id, ok := strings.CutPrefix(to, finding); ok && findings.CheckID(id) == nil {
		return to
	}
	if noticePath(to) != "" {
		return to
	}
	return list
}

// item is a finding as the page shows it.
type item struct {
	findings.Finding
	// Title is the finding's deviation in the page's language.
	Title       string
	SiteName    string
	CameraName  string
	Countdown   string
	ObservedAt  string
	DeadlineAt  string
	Events      []event
	CanAck      bool
	CanRectify  bool
	ActionID    string
	DeadlineISO string
	standing    // the countdown, or when the site's part was done; why no form (rectify.go)
}

type event struct {
	At, Actor, Action, Note string
}

// names are the sites' and cameras' names and time zones one page needs,
// each read once: a list shows many findings of few cameras.
type names struct {
	sites   map[string]store.Site
	zones   map[string]*time.Location
	cameras map[[2]string]string // site, camera → name in the page's language
}

func (p *page) names(ctx context.Context) *names {
	n := &names{sites: map[string]store.Site{}, zones: map[string]*time.Location{}, cameras: map[[2]string]string{}}
	sites, err := p.Users.Sites(ctx)
	if err != nil {
		p.Log.Warn().Err(err).Msg("reading sites for the site page")
		return n
	}
	for _, s := range sites {
		n.sites[s.ID] = s
	}
	return n
}

func (n *names) zone(site string) *time.Location {
	if loc, ok := n.zones[site]; ok {
		return loc
	}
	loc := time.Local
	if s, ok := n.sites[site]; ok {
		if l, err := time.LoadLocation(s.TimeZone); err == nil {
			loc = l
		}
	}
	n.zones[site] = loc
	return loc
}

func (p *page) cameraName(ctx context.Context, n *names, lang, site, camera string) string {
	key := [2]string{site, camera}
	if name, ok := n.cameras[key]; ok {
		return name
	}
	name := camera
	if c, err := p.Users.Camera(ctx, site, camera); err == nil {
		name = c.Name.In(lang)
	}
	n.cameras[key] = name
	return name
}

func (p *page) item(ctx context.Context, lang string, by auth.Principal, f findings.Finding, n *names) item {
	loc := n.zone(f.Site)
	name := f.Site
	if s, ok := n.sites[f.Site]; ok {
		name = s.Name.In(lang)
	}
	const layout = "2006-01-02 15:04"
	camera := p.cameraName(ctx, n, lang, f.Site, f.Camera)
	it := item{Finding: f, Title: findings.Title(f.Draft, lang), SiteName: name, CameraName: camera, Countdown: countdown(lang, f.Deadline, p.Now()),
		ObservedAt: f.ObservedAt.In(loc).Format(layout), DeadlineAt: f.Deadline.In(loc).Format(layout),
		DeadlineISO: f.Deadline.UTC().Format(time.RFC3339), ActionID: uuid.NewString()}
	_, ackErr := findings.Next(f.Status, findings.ActAcknowledge)
	_, rectErr := findings.Next(f.Status, findings.ActRectify)
	it.CanAck = ackErr == nil && findings.May(by.Role, findings.ActAcknowledge)
	it.CanRectify = rectErr == nil && findings.May(by.Role, findings.ActRectify)
	it.standing = standingOf(lang, by, f, loc, it.CanAck || it.CanRectify)
	for _, e := range f.Events {
		var d struct {
			Note string `json:"note"`
		}
		_ = json.Unmarshal(e.Detail, &d) // the store writes it; a stranger shows no note
		it.Events = append(it.Events, event{At: e.At.In(loc).Format(layout), Actor: e.Actor, Action: phrases.In(lang, "ev_"+e.Action), Note: d.Note})
	}
	return it
}

func (p *page) list(w http.ResponseWriter, r *http.Request) {
	by, token, ok := p.session(w, r)
	if !ok {
		return
	}
	// Read before the list, so that a change between the two is asked
	// for again rather than missed.
	cursor, err := p.Findings.Cursor(r.Context())
	if err != nil {
		p.Log.Error().Err(err).Msg("reading the changes cursor for the site page")
		p.message(w, r, http.StatusInternalServerError, "failed")
		return
	}
	// Closed findings stay on the page for a while, then only in the API.
	list, err := p.Findings.List(r.Context(), by, findings.Filter{ClosedSince: p.Now().Add(-closedShown)})
	if err != nil {
		p.Log.Error().Err(err).Msg("listing findings for the site page")
		p.message(w, r, http.StatusInternalServerError, "failed")
		return
	}
	lang := language(r)
	n := p.names(r.Context())
	items := make([]item, len(list))
	for i, f := range list {
		items[i] = p.item(r.Context(), lang, by, f, n)
	}
	p.render(w, r, http.StatusOK, "list", view{Lang: lang, User: &by, CSRF: p.csrf(token), Data: items, Cursor: &cursor,
		Notices: p.noticeRows(r.Context(), lang, by, n)})
}

func (p *page) finding(w http.ResponseWriter, r *http.Request) {
	by, token, ok := p.session(w, r)
	if !ok {
		return
	}
	p.showFinding(w, r, by, token, http.StatusOK, "", r.URL.Query().Get("done"))
}

func (p *page) showFinding(w http.ResponseWriter, r *http.Request, by auth.Principal, token string, status int, errKey, done string) {
	cursor, err := p.Findings.Cursor(r.Context())
	if err != nil {
		p.Log.Error().Err(err).Msg("reading the changes cursor for the site page")
		p.message(w, r, http.StatusInternalServerError, "failed")
		return
	}
	f, err := p.Findings.Get(r.Context(), by, r.PathValue("id"))
	if errors.Is(err, findings.ErrNotFound) || errors.Is(err, findings.ErrInvalid) {
		p.message(w, r, http.StatusNotFound, "not_found")
		return
	}
	if err != nil {
		p.Log.Error().Err(err).Msg("reading a finding for the site page")
		p.message(w, r, http.StatusInternalServerError, "failed")
		return
	}
	lang := language(r)
	v := view{Lang: lang, User: &by, CSRF: p.csrf(token), Data: p.item(r.Context(), lang, by, f, p.names(r.Context())), Cursor: &cursor,
		InNotice: p.noticeOf(r.Context(), lang, by, f.ID)}
	if errKey != "" {
		v.Error = phrases.In(lang, errKey)
	}
	if done == "acknowledge" || done == "rectify" {
		v.Notice = phrases.In(lang, "done_"+done)
	}
	p.render(w, r, status, "finding", v)
}

func (p *page) acknowledge(w http.ResponseWriter, r *http.Request) {
	by, token, ok := p.session(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if r.ParseForm() != nil || !p.checkCSRF(r, token) {
		p.showFinding(w, r, by, token, http.StatusForbidden, "bad_form", "")
		return
	}
	p.act(w, r, by, token, findings.Request{ActionID: r.PostFormValue("action_id"), Action: findings.ActAcknowledge,
		Note: strings.TrimSpace(r.PostFormValue("note"))}, nil)
}

func (p *page) evidence(w http.ResponseWriter, r *http.Request) {
	by, _, ok := p.session(w, r)
	if !ok {
		return
	}
	fh, file, err := p.Findings.Open(r.Context(), by, r.PathValue("id"), r.PathValue("name"))
	if err != nil {
		if !errors.Is(err, findings.ErrNotFound) && !errors.Is(err, findings.ErrBadEvidence) && !errors.Is(err, findings.ErrInvalid) {
			p.Log.Error().Err(err).Msg("opening evidence for the site page")
		}
		p.message(w, r, http.StatusNotFound, "not_found")
		return
	}
	defer fh.Close()
	h := w.Header()
	h.Set("Content-Type", file.ContentType)
	// Not kept in the phone's cache, where it would outlive the user's
	// right to it.
	h.Set("Cache-Control", "no-store")
	h.Set("ETag", `"`+file.SHA256+`"`)
	http.ServeContent(w, r, "", file.AddedAt, fh)
}
