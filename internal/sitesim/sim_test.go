package sitesim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testlog"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
)

const testToken = "publish-secret"

// whipEndpoint answers WHIP offers the way the relay does (docs/PROTOCOLS.md)
// with a real pion peer on loopback, and records what it receives.
type whipEndpoint struct {
	t     *testing.T
	srv   *httptest.Server
	api   *webrtc.API
	ctx   context.Context
	units chan receivedUnit

	mu       sync.Mutex
	refuse   int // POSTs still to refuse with 401
	posts    []string
	sessions map[string]*webrtc.PeerConnection // by Location
	deleted  []string
	nextID   int
}

type receivedUnit struct {
	session string // Location of the session it came on
	stream  string // the ?stream= of the POST: main or sub
	au      avc.AccessUnit
}

func newWHIPEndpoint(t *testing.T) *whipEndpoint {
	t.Helper()
	api, err := webrtcavc.NewAPI(webrtcavc.Settings(true))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &whipEndpoint{t: t, api: api, ctx: ctx, units: make(chan receivedUnit, 4096),
		sessions: map[string]*webrtc.PeerConnection{}}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serveHTTP))
	t.Cleanup(func() {
		cancel()
		e.srv.Close()
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, pc := range e.sessions {
			_ = pc.Close()
		}
	})
	return e
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
}

func (e *whipEndpoint) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong publish token")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "whip":
		// The relay takes ?stream=main|sub, main when absent.
		stream := r.URL.Query().Get("stream")
		switch stream {
		case "":
			stream = "main"
		case "main", "sub":
		default:
			writeError(w, http.StatusBadRequest, "bad_request", "stream "+stream)
			return
		}
		e.answer(w, r, parts[1]+"/"+parts[2], stream)
	case r.Method == http.MethodDelete && len(parts) == 4 && parts[0] == "whip":
		e.mu.Lock()
		pc, ok := e.sessions[r.URL.Path]
		delete(e.sessions, r.URL.Path)
		if ok {
			e.deleted = append(e.deleted, r.URL.Path)
		}
		e.mu.Unlock()
		if !ok {
			writeError(w, http.StatusNotFound, "unknown_session", "no session "+r.URL.Path)
			return
		}
		_ = pc.Close()
		w.WriteHeader(http.StatusOK)
	default:
		writeError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path)
	}
}

func (e *whipEndpoint) answer(w http.ResponseWriter, r *http.Request, camera, stream string) {
	e.mu.Lock()
	e.posts = append(e.posts, camera+"?stream="+stream)
	refuse := e.refuse > 0
	if refuse {
		e.refuse--
	}
	e.nextID++
	location := fmt.Sprintf("/whip/%s/s%d", camera, e.nextID)
	e.mu.Unlock()
	if refuse {
		writeError(w, http.StatusUnauthorized, "unauthorized", "publish token expired for "+camera)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/sdp" {
		writeError(w, http.StatusUnsupportedMediaType, "bad_content_type", "content type "+ct)
		return
	}
	offer, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		_ = webrtcavc.ReadTrack(e.ctx, track, func(au avc.AccessUnit) {
			select {
			case e.units <- receivedUnit{session: location, stream: stream, au: au}:
			default: // the test stopped listening
			}
		})
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		_ = pc.Close()
		writeError(w, http.StatusBadRequest, "bad_sdp", err.Error())
		return
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		_ = pc.Close()
		writeError(w, http.StatusBadRequest, "bad_sdp", err.Error())
		return
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		_ = pc.Close()
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	<-gathered
	e.mu.Lock()
	e.sessions[location] = pc
	e.mu.Unlock()
	w.Header().Set("Location", location)
	w.Header().Set("Content-Type", "application/sdp")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, pc.LocalDescription().SDP)
}

// waitUnit returns the first received unit that match accepts; the test
// fails if none comes within eventually.Ceiling.
func (e *whipEndpoint) waitUnit(what string, match func(receivedUnit) bool) receivedUnit {
	e.t.Helper()
	deadline := time.After(eventually.Ceiling)
	for {
		select {
		case u := <-e.units:
			if match(u) {
				return u
			}
		case <-deadline:
			e.t.Fatalf("no %s within %v", what, eventually.Ceiling)
		}
	}
}

// unitWithin returns the first unit match accepts, if one comes within d.
func (e *whipEndpoint) unitWithin(d time.Duration, match func(receivedUnit) bool) (receivedUnit, bool) {
	deadline := time.After(d)
	for {
		select {
		case u := <-e.units:
			if match(u) {
				return u, true
			}
		case <-deadline:
			return receivedUnit{}, false
		}
	}
}

// drain discards units received so far.
func (e *whipEndpoint) drain() {
	for {
		select {
		case <-e.units:
		default:
			return
		}
	}
}

func (e *whipEndpoint) session(location string) *webrtc.PeerConnection {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions[location]
}

func (e *whipEndpoint) wasDeleted(location string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range e.deleted {
		if d == location {
			return true
		}
	}
	return false
}

// checkKeyframe fails unless u is a keyframe whose SPS declares the size of
// its stream in testOptions.
func checkKeyframe(t *testing.T, u receivedUnit) {
	t.Helper()
	sps, pps := u.au.ParamSets()
	if !u.au.Keyframe || sps == nil || pps == nil {
		t.Fatalf("first unit of %s (%s): keyframe=%v sps=%v pps=%v, want a keyframe with both", u.session, u.stream, u.au.Keyframe, sps != nil, pps != nil)
	}
	info, err := avc.ParseSPS(sps)
	if err != nil {
		t.Fatal(err)
	}
	size := testSizes[u.stream]
	if info.Width != size[0] || info.Height != size[1] || !strings.HasPrefix(info.Codec, "avc1.42") {
		t.Fatalf("SPS of %s (%s) says %+v, want constrained baseline %dx%d", u.session, u.stream, info, size[0], size[1])
	}
}

func testOptions(relay string, cameras int, log zerolog.Logger) Options {
	return Options{RelayURL: relay, Token: testToken, Sites: 1, Cameras: cameras,
		FPS: 10, GOP: time.Second, Width: 192, Height: 108, SubWidth: 96, SubHeight: 54, Log: log}
}

// testSizes are the stream sizes of testOptions.
var testSizes = map[string][2]int{"main": {192, 108}, "sub": {96, 54}}

// fromStream matches the units of one camera stream.
func fromStream(camera, stream string) func(receivedUnit) bool {
	return func(u receivedUnit) bool {
		return strings.HasPrefix(u.session, "/whip/"+camera+"/") && u.stream == stream
	}
}

// encoders returns the pids of this process's ffmpeg children drawing camera.
func encoders(t *testing.T, camera string) []int {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range procs {
		stat, err := os.ReadFile(filepath.Join(p, "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid …; comm may hold spaces, so split after ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(p, "cmdline"))
		if bytes.Contains(cmdline, []byte("text='"+camera+"'")) {
			pid, _ := strconv.Atoi(filepath.Base(p))
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestPublishRetriesThenStreams: the relay refuses the first offer with a JSON
// 401; the simulator logs the relay's message, retries, publishes the main
// and the sub stream, each starting with a keyframe of its size, counts
// keyframe requests and DELETEs both sessions on Close.
func TestPublishRetriesThenStreams(t *testing.T) {
	e := newWHIPEndpoint(t)
	e.refuse = 1
	var logs testlog.Buffer
	sim, err := Start(context.Background(), testOptions(e.srv.URL, 1, zerolog.New(&logs)))
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = sim.Close()
		}
	}()

	first := map[string]receivedUnit{}
	for len(first) < 2 {
		u := e.waitUnit("units of both streams", func(u receivedUnit) bool { _, seen := first[u.stream]; return !seen })
		checkKeyframe(t, u)
		first[u.stream] = u
	}
	if first["main"].session == first["sub"].session {
		t.Fatal("main and sub came on one session")
	}
	e.mu.Lock()
	posts := append([]string(nil), e.posts...)
	e.mu.Unlock()
	slices.Sort(posts)
	// One of the two was refused, then offered again.
	if len(posts) != 3 || posts[0] != "site-01/doff1?stream=main" || posts[2] != "site-01/doff1?stream=sub" {
		t.Fatalf("POSTs %v, want main and sub of site-01/doff1, one of them twice", posts)
	}
	if !strings.Contains(logs.String(), "publish token expired for site-01/doff1") {
		t.Fatalf("the relay's error message is not in the log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), testToken) {
		t.Fatal("the publish token was logged")
	}
	// A second keyframe comes one GOP later, again with its parameter sets.
	checkKeyframe(t, e.waitUnit("second keyframe", func(u receivedUnit) bool { return u.au.Keyframe }))

	// A keyframe request reaches the main stream's publisher, which counts it.
	pc := e.session(first["main"].session)
	ssrc := uint32(pc.GetReceivers()[0].Track().SSRC())
	if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
		t.Fatal(err)
	}
	var pub *whipPublisher
	for _, p := range sim.cameras["site-01/doff1"].pubs {
		if strings.HasSuffix(p.endpoint, "?stream=main") {
			pub = p
		}
	}
	eventually.True(t, eventually.Ceiling, "PLI counted", func() bool { return pub.keyframeRequests.Load() >= 1 })

	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	for stream, u := range first {
		if !e.wasDeleted(u.session) {
			t.Fatalf("Close did not DELETE the %s session %s", stream, u.session)
		}
	}
	if pids := encoders(t, "site-01 / doff1"); len(pids) > 0 {
		t.Fatalf("ffmpeg %v still running after Close", pids)
	}
	if err := sim.StopCamera("site-01", "doff1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("StopCamera after Close = %v, want ErrClosed", err)
	}
}

// TestRepublishAfterConnectionLoss: when the relay drops the peer connection,
// the simulator DELETEs the dead session and publishes again, from a keyframe.
func TestRepublishAfterConnectionLoss(t *testing.T) {
	e := newWHIPEndpoint(t)
	opts := testOptions(e.srv.URL, 1, zerolog.Nop())
	opts.NoSub = true
	opts.SubWidth, opts.SubHeight = 0, 0
	sim, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	first := e.waitUnit("unit", func(receivedUnit) bool { return true })
	encodersBefore := encoders(t, "site-01 / doff1")

	// The relay side goes away without a word, as when the relay crashes.
	if err := e.session(first.session).Close(); err != nil {
		t.Fatal(err)
	}
	second := e.waitUnit("unit on a new session", func(u receivedUnit) bool { return u.session != first.session })
	checkKeyframe(t, second)
	if second.stream != "main" {
		t.Fatalf("a camera without sub stream published %q", second.stream)
	}
	if !e.wasDeleted(first.session) {
		t.Fatalf("the dead session %s was not DELETEd before publishing again", first.session)
	}
	if after := encoders(t, "site-01 / doff1"); fmt.Sprint(after) != fmt.Sprint(encodersBefore) {
		t.Fatalf("ffmpeg restarted across the reconnect: %v, then %v", encodersBefore, after)
	}
}

// TestStopStartCamera: a stopped camera's ffmpeg exits and both its sessions
// are abandoned without DELETE, other cameras go on; started again, it
// publishes both streams on new sessions from a keyframe.
func TestStopStartCamera(t *testing.T) {
	e := newWHIPEndpoint(t)
	sim, err := Start(context.Background(), testOptions(e.srv.URL, 2, zerolog.Nop()))
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	sessions := map[string]string{} // camera?stream → Location
	for len(sessions) < 4 {
		u := e.waitUnit("units from both streams of both cameras", func(receivedUnit) bool { return true })
		sessions[strings.Join(strings.Split(u.session, "/")[2:4], "/")+"?"+u.stream] = u.session
	}
	if err := sim.StopCamera("site-01", "doff1"); err != nil {
		t.Fatal(err)
	}
	if pids := encoders(t, "site-01 / doff1"); len(pids) > 0 {
		t.Fatalf("ffmpeg %v of the stopped camera still running", pids)
	}
	if pids := encoders(t, "site-01 / doff2"); len(pids) != 1 {
		t.Fatalf("the other camera has %d encoders, want 1", len(pids))
	}
	for _, stream := range []string{"main", "sub"} {
		if e.wasDeleted(sessions["site-01/doff1?"+stream]) {
			t.Fatalf("a dying camera sent DELETE for its %s stream", stream)
		}
	}
	e.drain()
	// The other camera goes on.
	e.waitUnit("unit from site-01/doff2", func(u receivedUnit) bool { return u.session == sessions["site-01/doff2?sub"] })
	e.drain()
	if u, ok := e.unitWithin(time.Second, fromStream("site-01/doff1", "main")); ok {
		t.Fatalf("the stopped camera still sends, on %s", u.session)
	}

	if err := sim.StopCamera("site-01", "doff1"); !errors.Is(err, ErrCameraStopped) {
		t.Fatalf("second StopCamera = %v, want ErrCameraStopped", err)
	}
	if err := sim.StartCamera("site-01", "nope"); !errors.Is(err, ErrUnknownCamera) {
		t.Fatalf("StartCamera of an unknown camera = %v, want ErrUnknownCamera", err)
	}
	if err := sim.StartCamera("site-01", "doff1"); err != nil {
		t.Fatal(err)
	}
	if err := sim.StartCamera("site-01", "doff1"); !errors.Is(err, ErrCameraRunning) {
		t.Fatalf("second StartCamera = %v, want ErrCameraRunning", err)
	}
	// One pass for both streams: waiting for one at a time would throw away
	// the other's first unit if it came first.
	first := map[string]receivedUnit{}
	for len(first) < 2 {
		u := e.waitUnit("units of both streams from the restarted camera", func(u receivedUnit) bool {
			_, seen := first[u.stream]
			return !seen && fromStream("site-01/doff1", u.stream)(u) && u.session != sessions["site-01/doff1?"+u.stream]
		})
		first[u.stream] = u
	}
	for _, u := range first {
		checkKeyframe(t, u)
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"relay URL without scheme", Options{RelayURL: "127.0.0.1:8080", Token: "t"}, "relay URL"},
		{"no token", Options{RelayURL: "http://127.0.0.1:8080"}, "token"},
		{"too many cameras", Options{RelayURL: "http://127.0.0.1:8080", Token: "t", Cameras: 13}, "cameras a site"},
		{"odd size", Options{RelayURL: "http://127.0.0.1:8080", Token: "t", Width: 641, Height: 360}, "even"},
		{"GOP under a frame", Options{RelayURL: "http://127.0.0.1:8080", Token: "t", GOP: time.Millisecond}, "GOP"},
		{"frame rate", Options{RelayURL: "http://127.0.0.1:8080", Token: "t", FPS: 500}, "frame rate"},
		{"nothing to do", Options{}, "nothing to do"},
		{"sub larger than main", Options{RelayURL: "http://127.0.0.1:8080", Token: "t", Width: 320, Height: 180, SubWidth: 640, SubHeight: 360}, "larger than the main"},
		{"odd sub size", Options{RelayURL: "http://127.0.0.1:8080", Token: "t", SubWidth: 161, SubHeight: 90}, "sub stream size 161x90"},
		{"sub size without sub", Options{RelayURL: "http://127.0.0.1:8080", Token: "t", NoSub: true, SubWidth: 320, SubHeight: 180}, "no sub stream"},
		{"RTSP address without port", Options{RTSPAddr: "127.0.0.1"}, "RTSP address"},
		{"odd RTSP UDP port", Options{RTSPAddr: "127.0.0.1:0", RTSPUDPAddr: "127.0.0.1:8001"}, "even port"},
		{"RTSP user without password", Options{RTSPAddr: "127.0.0.1:0", RTSPUser: "admin"}, "give both"},
		{"Digest without credentials", Options{RTSPAddr: "127.0.0.1:0", RTSPDigestOnly: true}, "Digest"},
		{"RTSP UDP without RTSP", Options{RelayURL: "http://127.0.0.1:8080", Token: "t", RTSPUDPAddr: "127.0.0.1:8000"}, "without an RTSP address"},
		{"RTSP port taken", Options{RTSPAddr: taken.Addr().String()}, "starting RTSP server"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim, err := Start(context.Background(), tc.opts)
			if err == nil {
				_ = sim.Close()
				t.Fatal("Start accepted the options")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}
