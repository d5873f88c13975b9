// Package relaytest is a stand-in relay for the console's tests: the relay's
// HTTP API on 127.0.0.1 (login, token refresh, cameras with health, the
// event stream, WHEP) with a real pion peer behind WHEP that sends real
// H.264. Tests can take cameras offline, pause the video, drop every
// session and event stream as a crashing relay would, revoke tokens, and
// watch sessions come and go.
package relaytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/demosite"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
)

// Credentials of the stand-in relay's one user.
const (
	User     = "duty"
	Password = "correct horse"
)

// Options configures a Relay; zero values are sensible.
type Options struct {
	// TokenTTL is the life of login tokens (1 h).
	TokenTTL time.Duration
	// Now is the relay's clock for token expiry.
	Now func() time.Time
	// EventsEvery is how often the event stream repeats the camera list
	// (5 s, as the relay).
	EventsEvery time.Duration
	// EventIDs numbers the events ("id:" lines), which the relay may do.
	EventIDs bool
}

// Relay is the stand-in relay.
type Relay struct {
	t      testing.TB
	srv    *httptest.Server
	api    *webrtc.API
	video  []avc.AccessUnit
	opts   Options
	closed chan struct{}

	mu        sync.Mutex
	tokens    map[string]time.Time
	cameras   []cameraJSON
	offline   map[string]bool
	since     map[string]time.Time // when each camera's state began
	paused    bool
	sessions  map[string]*session
	logins    int
	refreshes int
	offers    int
	offered   []string // site/camera?stream=… of every accepted offer
	deleted   chan string
	streams   map[chan sseEvent]bool
	eventID   int
	lastIDs   []string // Last-Event-ID of every event stream request
}

type sseEvent struct {
	name string
	data []byte
}

type session struct {
	path   string // site/camera
	pc     *webrtc.PeerConnection
	cancel context.CancelFunc
}

type cameraJSON struct {
	Site     string                `json:"site"`
	ID       string                `json:"id"`
	Zone     string                `json:"zone"`
	Name     demosite.Name         `json:"name"`
	SiteName demosite.Name         `json:"site_name"`
	District demosite.Name         `json:"district"`
	TimeZone string                `json:"time_zone"`
	Online   bool                  `json:"online"`
	State    string                `json:"state"`
	Since    string                `json:"since"`
	Streams  map[string]streamJSON `json:"streams"`
}

type streamJSON struct {
	State   string  `json:"state"`
	Since   string  `json:"since"`
	Width   int     `json:"width,omitempty"`
	Height  int     `json:"height,omitempty"`
	FPS     float64 `json:"fps,omitempty"`
	Viewers int     `json:"viewers"`
}

// Start runs a relay with one demo site of two cameras (site-01/doff1,
// site-01/doff2) until the test ends.
func Start(t testing.TB, opts Options) *Relay {
	t.Helper()
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.EventsEvery <= 0 {
		opts.EventsEvery = 5 * time.Second
	}
	settings := webrtcavc.Settings(true)
	// Notice a viewer gone without a DELETE (its token refused, its
	// process dead) within seconds, as the relay does.
	settings.SetICETimeouts(2*time.Second, 5*time.Second, 500*time.Millisecond)
	api, err := webrtcavc.NewAPI(settings)
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{
		t: t, api: api, video: Video(t), opts: opts, closed: make(chan struct{}),
		tokens: make(map[string]time.Time), offline: make(map[string]bool), since: make(map[string]time.Time),
		sessions: make(map[string]*session), deleted: make(chan string, 100),
		streams: make(map[chan sseEvent]bool),
	}
	sites, err := demosite.Sites(1, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sites {
		for _, c := range s.Cameras {
			r.cameras = append(r.cameras, cameraJSON{
				Site: s.ID, ID: c.ID, Zone: c.Zone, Name: c.Name, SiteName: s.Name,
				District: s.District, TimeZone: s.TimeZone,
			})
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/login", r.login)
	mux.HandleFunc("POST /api/v1/token/refresh", r.refresh)
	mux.HandleFunc("GET /api/v1/cameras", r.listCameras)
	mux.HandleFunc("GET /api/v1/events", r.events)
	mux.HandleFunc("POST /whep/{site}/{camera}", r.whepOffer)
	mux.HandleFunc("DELETE /whep/{site}/{camera}/{session}", r.whepDelete)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.Close)
	return r
}

// URL is the relay's base URL.
func (r *Relay) URL() string { return r.srv.URL }

// Close drops every session and stops the server.
func (r *Relay) Close() {
	select {
	case <-r.closed:
		return
	default:
		close(r.closed)
	}
	r.DropSessions()
	r.DropEvents()
	r.srv.Close()
}

// SetOnline marks camera ("site/camera") online or offline. Taking it
// offline ends its sessions, as the relay does when a camera's publisher
// leaves; offers for it then get 409 camera_offline.
func (r *Relay) SetOnline(camera string, online bool) {
	r.mu.Lock()
	if r.offline[camera] != !online {
		r.since[camera] = time.Now()
	}
	r.offline[camera] = !online
	for _, c := range r.cameras {
		if c.Site+"/"+c.ID == camera {
			r.broadcast("camera", r.cameraLocked(c))
		}
	}
	var drop []*session
	for id, s := range r.sessions {
		if !online && s.path == camera {
			drop = append(drop, s)
			delete(r.sessions, id)
		}
	}
	r.mu.Unlock()
	for _, s := range drop {
		s.close()
	}
}

// Pause stops or resumes the video on every session without ending them.
func (r *Relay) Pause(paused bool) {
	r.mu.Lock()
	r.paused = paused
	r.mu.Unlock()
}

// DropSessions closes every peer connection without being asked to, as a
// relay that crashes or restarts does.
func (r *Relay) DropSessions() {
	r.mu.Lock()
	drop := r.sessions
	r.sessions = make(map[string]*session)
	r.mu.Unlock()
	for _, s := range drop {
		s.close()
	}
}

// DropEvents ends every event stream, as a relay that restarts does.
func (r *Relay) DropEvents() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ch := range r.streams {
		close(ch)
		delete(r.streams, ch)
	}
}

// EventStreams is the number of open event streams.
func (r *Relay) EventStreams() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.streams)
}

// LastEventIDs are the Last-Event-ID headers of the event stream requests,
// in order ("" for none).
func (r *Relay) LastEventIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lastIDs...)
}

// Refreshes counts successful token refreshes.
func (r *Relay) Refreshes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refreshes
}

// Offered lists every accepted WHEP offer as "site/camera?stream=S".
func (r *Relay) Offered() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.offered...)
}

// RevokeTokens forgets every login token, as a relay restarted with new
// keys does.
func (r *Relay) RevokeTokens() {
	r.mu.Lock()
	r.tokens = make(map[string]time.Time)
	r.mu.Unlock()
}

// Sessions is the number of open WHEP sessions.
func (r *Relay) Sessions() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sessions)
}

// Logins and Offers count successful logins and accepted WHEP offers.
func (r *Relay) Logins() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logins
}

// Offers counts accepted WHEP offers.
func (r *Relay) Offers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.offers
}

// Deleted delivers the path of every session ended by a DELETE.
func (r *Relay) Deleted() <-chan string { return r.deleted }

func (s *session) close() {
	s.cancel()
	_ = s.pc.Close()
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (r *Relay) login(w http.ResponseWriter, req *http.Request) {
	var in struct{ User, Password string }
	if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "body must be JSON")
		return
	}
	if in.User != User || in.Password != Password {
		writeError(w, http.StatusUnauthorized, "unauthorized", "wrong user or password")
		return
	}
	r.mu.Lock()
	r.logins++
	r.mu.Unlock()
	r.issue(w)
}

// refresh swaps a valid login token for a fresh one; the old one stays
// valid until it expires, as the relay's signed tokens do.
func (r *Relay) refresh(w http.ResponseWriter, req *http.Request) {
	if !r.authorized(w, req) {
		return
	}
	r.mu.Lock()
	r.refreshes++
	r.mu.Unlock()
	r.issue(w)
}

func (r *Relay) issue(w http.ResponseWriter) {
	token := randomID()
	expires := r.opts.Now().Add(r.opts.TokenTTL)
	r.mu.Lock()
	r.tokens[token] = expires
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token": token, "expires_at": expires.UTC().Format(time.RFC3339Nano),
		"user": map[string]string{"name": User, "role": "duty"},
	})
}

// authorized checks the login token and answers 401 when it is not valid.
func (r *Relay) authorized(w http.ResponseWriter, req *http.Request) bool {
	token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	r.mu.Lock()
	exp, known := r.tokens[token]
	r.mu.Unlock()
	if !ok || !known || !r.opts.Now().Before(exp) {
		writeError(w, http.StatusUnauthorized, "unauthorized", "login token missing, unknown or expired")
		return false
	}
	return true
}

func (r *Relay) listCameras(w http.ResponseWriter, req *http.Request) {
	if !r.authorized(w, req) {
		return
	}
	r.mu.Lock()
	list := r.listLocked()
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"cameras": list})
}

func (r *Relay) listLocked() []cameraJSON {
	list := make([]cameraJSON, len(r.cameras))
	for i, c := range r.cameras {
		list[i] = r.cameraLocked(c)
	}
	return list
}

// cameraLocked fills in a camera's health: one main stream, online unless
// taken offline.
func (r *Relay) cameraLocked(c cameraJSON) cameraJSON {
	path := c.Site + "/" + c.ID
	c.Online = !r.offline[path]
	since, ok := r.since[path]
	if !ok {
		since = time.Now()
		r.since[path] = since
	}
	c.State, c.Since = "offline", since.UTC().Format(time.RFC3339Nano)
	main := streamJSON{State: "offline", Since: c.Since}
	if c.Online {
		c.State = "online"
		main = streamJSON{State: "online", Since: c.Since, Width: 320, Height: 240, FPS: FPS}
		for _, s := range r.sessions {
			if s.path == path {
				main.Viewers++
			}
		}
	}
	c.Streams = map[string]streamJSON{"main": main, "sub": {State: "offline", Since: c.Since}}
	return c
}

// broadcast sends an event to every stream; r.mu must be held. A stream
// too slow to take it is ended, as the relay ends a lagging one.
func (r *Relay) broadcast(name string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		r.t.Error(err)
		return
	}
	for ch := range r.streams {
		select {
		case ch <- sseEvent{name: name, data: data}:
		default:
			close(ch)
			delete(r.streams, ch)
		}
	}
}

// events serves the event stream: the camera list on connect and every
// EventsEvery, a camera whenever its state changes.
func (r *Relay) events(w http.ResponseWriter, req *http.Request) {
	if !r.authorized(w, req) {
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "internal", "streaming unsupported")
		return
	}
	ch := make(chan sseEvent, 64)
	r.mu.Lock()
	r.lastIDs = append(r.lastIDs, req.Header.Get("Last-Event-ID"))
	r.streams[ch] = true
	first, _ := json.Marshal(map[string]any{"cameras": r.listLocked()})
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		if r.streams[ch] {
			delete(r.streams, ch)
		}
		r.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	write := func(ev sseEvent) bool {
		var id string
		if r.opts.EventIDs {
			r.mu.Lock()
			r.eventID++
			id = "id: " + strconv.Itoa(r.eventID) + "\n"
			r.mu.Unlock()
		}
		_, err := io.WriteString(w, id+"event: "+ev.name+"\ndata: "+string(ev.data)+"\n\n")
		flusher.Flush()
		return err == nil
	}
	if !write(sseEvent{name: "cameras", data: first}) {
		return
	}
	tick := time.NewTicker(r.opts.EventsEvery)
	defer tick.Stop()
	for {
		select {
		case <-req.Context().Done():
			return
		case <-r.closed:
			return
		case ev, ok := <-ch:
			if !ok || !write(ev) {
				return
			}
		case <-tick.C:
			r.mu.Lock()
			data, _ := json.Marshal(map[string]any{"cameras": r.listLocked()})
			r.mu.Unlock()
			if !write(sseEvent{name: "cameras", data: data}) {
				return
			}
		}
	}
}

func (r *Relay) known(path string) bool {
	for _, c := range r.cameras {
		if c.Site+"/"+c.ID == path {
			return true
		}
	}
	return false
}

func (r *Relay) whepOffer(w http.ResponseWriter, req *http.Request) {
	if !r.authorized(w, req) {
		return
	}
	path := req.PathValue("site") + "/" + req.PathValue("camera")
	if req.Header.Get("Content-Type") != "application/sdp" {
		writeError(w, http.StatusUnsupportedMediaType, "bad_content_type", "want application/sdp")
		return
	}
	if s := req.URL.Query().Get("stream"); s != "" && s != "main" && s != "sub" {
		writeError(w, http.StatusBadRequest, "bad_request", "stream must be main or sub")
		return
	}
	r.mu.Lock()
	known, offline := r.known(path), r.offline[path]
	r.mu.Unlock()
	if !known {
		writeError(w, http.StatusNotFound, "unknown_camera", "camera "+path+" does not exist")
		return
	}
	if offline {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusConflict, "camera_offline", "camera "+path+" is offline")
		return
	}
	offer, err := io.ReadAll(io.LimitReader(req.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "reading offer: "+err.Error())
		return
	}
	id := randomID()
	answer, s, err := r.answer(id, path, string(offer))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_sdp", err.Error())
		return
	}
	stream := req.URL.Query().Get("stream")
	if stream == "" {
		stream = "main"
	}
	r.mu.Lock()
	r.sessions[id] = s
	r.offers++
	r.offered = append(r.offered, path+"?stream="+stream)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/whep/"+path+"/"+id)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// answer creates the sending peer for an offer. It starts sending at a
// keyframe once connected, as a relay with a GOP cache does.
func (r *Relay) answer(id, path, offer string) (string, *session, error) {
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", nil, err
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtcavc.H264Codec.RTPCodecCapability, "video", "relaytest")
	if err != nil {
		pc.Close()
		return "", nil, err
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		pc.Close()
		return "", nil, err
	}
	go func() {
		for {
			if _, _, err := sender.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{path: path, pc: pc, cancel: cancel}
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { go r.send(ctx, track) })
		case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			cancel()
			r.mu.Lock()
			if r.sessions[id] == s {
				delete(r.sessions, id)
			}
			r.mu.Unlock()
			if st != webrtc.PeerConnectionStateClosed {
				go pc.Close()
			}
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		s.close()
		return "", nil, err
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		s.close()
		return "", nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		s.close()
		return "", nil, err
	}
	<-gathered
	return pc.LocalDescription().SDP, s, nil
}

// send loops the test video at its frame rate with continuous timestamps.
func (r *Relay) send(ctx context.Context, track *webrtc.TrackLocalStaticRTP) {
	p, err := webrtcavc.NewPacketizer(uint8(webrtcavc.H264Codec.PayloadType))
	if err != nil {
		r.t.Error(err)
		return
	}
	tick := time.NewTicker(time.Second / FPS)
	defer tick.Stop()
	for i := 0; ; i++ {
		r.mu.Lock()
		paused := r.paused
		r.mu.Unlock()
		if !paused {
			au := r.video[i%len(r.video)]
			au.PTS = time.Duration(i) * time.Second / FPS
			pkts, err := p.Packetize(au)
			if err != nil {
				r.t.Error(err)
				return
			}
			for _, pkt := range pkts {
				if err := track.WriteRTP(pkt); err != nil {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (r *Relay) whepDelete(w http.ResponseWriter, req *http.Request) {
	if !r.authorized(w, req) {
		return
	}
	id := req.PathValue("session")
	r.mu.Lock()
	s, ok := r.sessions[id]
	delete(r.sessions, id)
	r.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_session", "no session "+id)
		return
	}
	s.close()
	select {
	case r.deleted <- s.path:
	default:
	}
	w.WriteHeader(http.StatusOK)
}
