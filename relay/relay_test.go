package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/peer/peertest"
)

type cameraJSON struct {
	Site     string                `json:"site"`
	ID       string                `json:"id"`
	Zone     string                `json:"zone"`
	Name     map[string]string     `json:"name"`
	SiteName map[string]string     `json:"site_name"`
	District map[string]string     `json:"district"`
	TimeZone string                `json:"time_zone"`
	Online   bool                  `json:"online"`
	State    string                `json:"state"`
	Since    string                `json:"since"`
	Streams  map[string]streamJSON `json:"streams"`
}

type streamJSON struct {
	State              string   `json:"state"`
	Since              string   `json:"since"`
	Width              int      `json:"width"`
	Height             int      `json:"height"`
	FPS                *float64 `json:"fps"`
	BitrateKbps        *int     `json:"bitrate_kbps"`
	KeyframeIntervalMS *int64   `json:"keyframe_interval_ms"`
	LastFrameAgeMS     *int64   `json:"last_frame_age_ms"`
	Viewers            *int     `json:"viewers"`
}

func cameras(t *testing.T, r *Relay, token string) []cameraJSON {
	t.Helper()
	resp, b := apitest.Call(t, "GET", r.URL()+"/api/v1/cameras", token, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cameras: %d %s", resp.StatusCode, b)
	}
	var out struct{ Cameras []cameraJSON }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Cameras
}

func onlineCameras(t *testing.T, r *Relay, token string) []string {
	var on []string
	for _, c := range cameras(t, r, token) {
		if c.Online {
			on = append(on, c.Site+"/"+c.ID)
		}
	}
	return on
}

func TestPublishThenWatch(t *testing.T) {
	r := startDemo(t, "")
	token := login(t, r, "duty", r.Demo().Password)

	cams := cameras(t, r, token)
	if len(cams) != 12 || len(onlineCameras(t, r, token)) != 0 {
		t.Fatalf("demo camera list: %d cameras, online %v", len(cams), onlineCameras(t, r, token))
	}
	first := cams[0]
	if first.Site != "site-01" || first.ID != "doff1" || first.Zone != "doffing_room_1" || first.Name["zh-CN"] != "一脱间" ||
		first.SiteName["en"] == "" || first.District["zh-CN"] == "" || first.TimeZone != "Asia/Shanghai" {
		t.Fatalf("first camera %+v", first)
	}

	p := publish(t, r, "site-01", "doff1", "main")
	if !strings.HasPrefix(p.location, "/whip/site-01/doff1/") {
		t.Fatalf("WHIP Location %q", p.location)
	}
	feeding, stop := context.WithCancel(context.Background())
	fed := pace(feeding, p, testUnits, testFPS, new(atomic.Int64))
	var stopOnce sync.Once
	stopFeed := func() {
		stopOnce.Do(func() {
			stop()
			if err := <-fed; err != nil {
				t.Errorf("publishing: %v", err)
			}
		})
	}
	defer stopFeed()
	if on := onlineCameras(t, r, token); len(on) != 1 || on[0] != "site-01/doff1" {
		t.Fatalf("online cameras %v", on)
	}

	v := watch(t, r, token, "site-01", "doff1", "main")
	if !strings.HasPrefix(v.location, "/whep/site-01/doff1/") {
		t.Fatalf("WHEP Location %q", v.location)
	}
	au := v.next(t)
	if !au.Keyframe {
		t.Fatal("first access unit is not a keyframe")
	}
	if sps, pps := au.ParamSets(); sps == nil || pps == nil {
		t.Fatal("first keyframe lacks SPS or PPS")
	}
	prev := au.PTS
	for range 20 {
		au := v.next(t)
		if au.PTS <= prev {
			t.Fatalf("PTS %v after %v", au.PTS, prev)
		}
		prev = au.PTS
	}

	// A second viewer of the same camera gets its own session.
	v2 := watch(t, r, token, "site-01", "doff1", "main")
	if v2.location == v.location {
		t.Fatal("two viewers share a session")
	}
	if au := v2.next(t); !au.Keyframe {
		t.Fatal("second viewer's first unit is not a keyframe")
	}

	// Ending the first viewer closes its record; the second keeps watching.
	resp, b := apitest.Call(t, "DELETE", r.URL()+v.location, token, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("WHEP DELETE: %d %s", resp.StatusCode, b)
	}
	if resp, _ := apitest.Call(t, "DELETE", r.URL()+v.location, token, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second WHEP DELETE: %d", resp.StatusCode)
	}
	id := v.location[strings.LastIndex(v.location, "/")+1:]
	recs, err := r.store.WHEPSessions(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rec := range recs {
		if rec.ID == id {
			found = true
			if rec.User != "duty" || rec.Site != "site-01" || rec.Camera != "doff1" || rec.Stream != "main" || rec.Remote != "127.0.0.1" ||
				rec.Ended.IsZero() || rec.EndReason != "deleted" {
				t.Fatalf("session record %+v", rec)
			}
		}
	}
	if !found || len(recs) != 2 {
		t.Fatalf("session records %+v", recs)
	}
	for range 5 {
		v2.next(t)
	}

	// The publisher leaves: the camera goes offline.
	stopFeed()
	resp, b = apitest.Call(t, "DELETE", r.URL()+p.location, r.Demo().PublishToken, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("WHIP DELETE: %d %s", resp.StatusCode, b)
	}
	if on := onlineCameras(t, r, token); len(on) != 0 {
		t.Fatalf("online after WHIP DELETE: %v", on)
	}
	// And may come straight back; the viewer still connected picks the
	// new publisher up at its first keyframe, with time running on.
	// Let the old publisher's units in flight arrive: the path is quiet once
	// none has come for half a second (a fixed wait flakes on a loaded machine).
	var last time.Duration
	for drained := false; !drained; {
		select {
		case au := <-v2.units:
			last = au.PTS
		case <-time.After(500 * time.Millisecond):
			drained = true
		}
	}
	p2 := publish(t, r, "site-01", "doff1", "main")
	if on := onlineCameras(t, r, token); len(on) != 1 {
		t.Fatalf("online after republishing: %v", on)
	}
	// A gateway's encoder picks up mid-GOP: a unit before the next
	// keyframe is not for the viewer. (In presentation order: a unit later
	// than the keyframe sent before it would map the keyframe onto the
	// last unit's time.)
	p2.send(t, testUnits[testGOP-1])
	p2.send(t, testUnits[testGOP])
	au = v2.next(t)
	if !au.Keyframe || !bytes.Equal(idr(au), idr(testUnits[testGOP])) {
		t.Fatalf("after the publisher's return the viewer got a non-keyframe first (keyframe=%v)", au.Keyframe)
	}
	if au.PTS <= last {
		t.Fatalf("PTS went back from %v to %v across the publisher change", last, au.PTS)
	}
}

func TestPublisherVanishingGoesOffline(t *testing.T) {
	// Short ICE timeouts keep the test short; by default a vanished
	// publisher frees its camera after 3 s.
	r := startDemo(t, writeConfig(t, shortICE))
	key := hub.Key{Site: "site-01", Camera: "gate", Stream: hub.StreamMain}
	p := publish(t, r, key.Site, key.Camera, "main")
	p.send(t, testUnits[0])
	if !r.hub.Online(key) {
		t.Fatal("not online while publishing")
	}
	p.pc.Close() // no DELETE: the gateway lost power
	// The ICE disconnected timeout frees the camera.
	start := time.Now()
	waitFor(t, "the camera offline once its publisher vanished", func() bool { return !r.hub.Online(key) })
	t.Logf("offline %v after the publisher vanished", time.Since(start))
	// The gateway's reconnection is accepted.
	publish(t, r, key.Site, key.Camera, "main")
}

func TestViewerJoiningMidGOPGetsCachedKeyframe(t *testing.T) {
	r := startDemo(t, "")
	token := login(t, r, "duty", r.Demo().Password)
	p := publish(t, r, "site-02", "gate", "main")
	// Ten units of a thirty-unit GOP, then the camera pauses: the next
	// keyframe is far off, so only the cache can start a viewer.
	const sent = 10
	for i := range sent {
		p.send(t, testUnits[i])
		time.Sleep(5 * time.Millisecond)
	}
	key := hub.Key{Site: "site-02", Camera: "gate", Stream: hub.StreamMain}
	waitFor(t, "relay has the units", func() bool {
		st, _ := r.hub.State(key)
		return st.Frames == sent
	})

	// The viewer asks for the sub stream, which is not published: it is
	// served the main one.
	v := watch(t, r, token, "site-02", "gate", "sub")
	start := time.Now()
	au := v.next(t)
	if !au.Keyframe || !bytes.Equal(idr(au), idr(testUnits[0])) {
		t.Fatalf("first unit is not the cached keyframe (keyframe=%v)", au.Keyframe)
	}
	if sps, pps := au.ParamSets(); sps == nil || pps == nil {
		t.Fatal("cached keyframe lacks SPS or PPS")
	}
	for i := 1; i < sent; i++ {
		got := v.next(t)
		if !bytes.Equal(got.NALUs[len(got.NALUs)-1], testUnits[i].NALUs[len(testUnits[i].NALUs)-1]) {
			t.Fatalf("cached unit %d differs", i)
		}
	}
	t.Logf("cached GOP delivered in %v", time.Since(start))

	recs, err := r.store.WHEPSessions(context.Background(), 1)
	if err != nil || len(recs) != 1 || recs[0].RequestedStream != "sub" || recs[0].Stream != "main" || !recs[0].Ended.IsZero() {
		t.Fatalf("session record %+v, %v", recs, err)
	}
	// Live units follow the cache.
	p.send(t, testUnits[sent])
	if got := v.next(t); !bytes.Equal(got.NALUs[len(got.NALUs)-1], testUnits[sent].NALUs[len(testUnits[sent].NALUs)-1]) {
		t.Fatal("live unit after the cache differs")
	}
}

func TestRestartKeepsDemoCredentialsAndClosesSessions(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	r1, err := Start(ctx, Options{Listen: "127.0.0.1:0", DataDir: dir, Demo: true, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	creds := r1.Demo()
	if creds.User != "duty" || creds.Password == "" || creds.PublishToken == "" || creds.ManagerPassword == "" ||
		strings.Join(creds.Managers, ",") != "manager-01,manager-02,manager-03" {
		t.Fatalf("demo credentials %+v", creds)
	}
	token := login(t, r1, "duty", creds.Password)
	p := publish(t, r1, "site-03", "waste", "main")
	p.send(t, testUnits[0])
	v := watch(t, r1, token, "site-03", "waste", "main")
	waitConnected(t, v.pc)
	v.next(t)
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r1.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := http.Get(r1.URL() + "/healthz"); err == nil {
		t.Fatal("closed relay still serving")
	}

	r2, err := Start(ctx, Options{Listen: "127.0.0.1:0", DataDir: dir, Demo: true, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if !reflect.DeepEqual(r2.Demo(), creds) {
		t.Fatalf("credentials changed: %+v, then %+v", creds, r2.Demo())
	}
	login(t, r2, "duty", creds.Password)
	// A demo site manager sees their own site and no other.
	manager := login(t, r2, "manager-02", creds.ManagerPassword)
	if resp, b := apitest.Call(t, "GET", r2.URL()+"/api/v1/cameras", manager, nil, nil); resp.StatusCode != http.StatusOK ||
		!strings.Contains(string(b), `"site-02"`) || strings.Contains(string(b), `"site-01"`) {
		t.Fatalf("manager-02's cameras: %d %s", resp.StatusCode, b)
	}
	env, err := os.ReadFile(filepath.Join(dir, DemoCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("QLY_RELAY=%s\nQLY_USER=duty\nQLY_PASSWORD=%s\nQLY_PUBLISH_TOKEN=%s\nQLY_SITE_MANAGERS=manager-01,manager-02,manager-03\nQLY_SITE_MANAGER_PASSWORD=%s\n",
		r2.URL(), creds.Password, creds.PublishToken, creds.ManagerPassword)
	if string(env) != want {
		t.Fatalf("credentials file:\n%s\nwant:\n%s", env, want)
	}
	recs, err := r2.store.WHEPSessions(ctx, 10)
	if err != nil || len(recs) != 1 || recs[0].Ended.IsZero() || recs[0].EndReason != "shutdown" {
		t.Fatalf("session records after restart: %+v, %v", recs, err)
	}
}

func TestCancellingStartContextStopsRelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Start(ctx, Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Demo(), DemoCredentials{}) {
		t.Fatalf("demo credentials without Demo: %+v", r.Demo())
	}
	if resp, _ := apitest.Call(t, "GET", r.URL()+"/healthz", "", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	cancel()
	waitFor(t, "relay stops", func() bool {
		_, err := http.Get(r.URL() + "/healthz")
		return err != nil
	})
}

func TestStartRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.yaml")
	cases := []struct{ name, text, want string }{
		{"unknown key", "hub:\n  queue: 3\n", path + ":2: unknown key \"queue\""},
		{"user of an unknown site", "users:\n  - {name: li, role: site_manager, sites: [site-09]}\n", path + ":2: user \"li\": unknown site \"site-09\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Start(context.Background(), Options{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"), ConfigFile: path, Log: testLogger(t)})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Start: %v, want …%s…", err, c.want)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	r := startDemo(t, writeConfig(t, siteManagerConfig(t, "site-02")))
	duty := login(t, r, "duty", r.Demo().Password)
	mgr := login(t, r, "mgr", "mgr-password")
	pub := r.Demo().PublishToken

	// A site manager sees their site's cameras only.
	for _, c := range cameras(t, r, mgr) {
		if c.Site != "site-02" {
			t.Fatalf("site manager of site-02 sees %s/%s", c.Site, c.ID)
		}
	}
	if n := len(cameras(t, r, mgr)); n != 4 {
		t.Fatalf("site manager sees %d cameras, want 4", n)
	}

	publish(t, r, "site-01", "doff1", "main") // live, for already_publishing
	offer := []byte(peertest.ViewerOffer(t))
	audioOnly := []byte("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n")
	huge := bytes.Repeat([]byte("a"), 70<<10)
	const sdp, js = "application/sdp", "application/json"

	type refusal struct {
		name, method, path, token, contentType string
		body                                   []byte
		status                                 int
		code                                   string
	}
	var cases []refusal
	// An offer is refused alike at both endpoints, each with its own
	// token: a publisher's at WHIP, a sign-in's at WHEP.
	for _, e := range []struct{ name, camera, token, others string }{
		{"whip", "doff2", pub, duty},
		{"whep", "doff1", duty, pub},
	} {
		path := "/" + e.name + "/site-01/" + e.camera
		for _, c := range []refusal{
			{"without token", "POST", path, "", sdp, offer, 401, "unauthorized"},
			{"with a wrong token", "POST", path, "nope", sdp, offer, 401, "unauthorized"},
			{"with a forged token", "POST", path, "eyJ1IjoiZHV0eSJ9.c2ln", sdp, offer, 401, "unauthorized"},
			{"with the other endpoint's token", "POST", path, e.others, sdp, offer, 401, "unauthorized"},
			{"of an unknown camera", "POST", "/" + e.name + "/site-01/nope", e.token, sdp, offer, 404, "unknown_camera"},
			{"with a bad stream", "POST", path + "?stream=4k", e.token, sdp, offer, 400, "bad_request"},
			{"without content type", "POST", path, e.token, "", offer, 415, "bad_content_type"},
			{"as JSON", "POST", path, e.token, js, offer, 415, "bad_content_type"},
			{"as text", "POST", path, e.token, "text/plain", offer, 415, "bad_content_type"},
			{"with a huge body", "POST", path, e.token, sdp, huge, 413, "body_too_large"},
			{"with garbage SDP", "POST", path, e.token, sdp, []byte("v=0\r\nhello"), 400, "bad_sdp"},
			{"with an empty body", "POST", path, e.token, sdp, nil, 400, "bad_sdp"},
			{"without video", "POST", path, e.token, sdp, audioOnly, 400, "bad_sdp"},
			{"delete of an unknown session", "DELETE", path + "/abc", e.token, "", nil, 404, "unknown_session"},
			{"patch (no trickle, no ICE restart)", "PATCH", path + "/abc", e.token, "application/trickle-ice-sdpfrag", []byte("a=ice-ufrag:x\r\n"), 405, "method_not_allowed"},
			{"by GET", "GET", path, e.token, "", nil, 405, "method_not_allowed"},
		} {
			c.name = e.name + " " + c.name
			cases = append(cases, c)
		}
	}
	cases = append(cases, []refusal{
		// A WHEP session's URL is its capability (issue 12): a DELETE
		// without a token is answered as any, a WHIP one is refused.
		{"whip delete without token", "DELETE", "/whip/site-01/doff2/abc", "", "", nil, 401, "unauthorized"},
		{"whep delete without token", "DELETE", "/whep/site-01/doff1/abc", "", "", nil, 404, "unknown_session"},
		{"whip to an unknown site", "POST", "/whip/site-99/doff1", pub, sdp, offer, 401, "unauthorized"},
		{"whip to a live camera", "POST", "/whip/site-01/doff1", pub, sdp, offer, 409, "already_publishing"},
		{"whep of another site", "POST", "/whep/site-01/doff1", mgr, sdp, offer, 403, "forbidden"},
		{"whep of an offline camera", "POST", "/whep/site-02/doff2", mgr, sdp, offer, 409, "camera_offline"},
		{"login with a wrong password", "POST", "/api/v1/login", "", js, []byte(`{"user":"duty","password":"wrong"}`), 401, "unauthorized"},
		{"login of an unknown user", "POST", "/api/v1/login", "", js, []byte(`{"user":"ghost","password":"x"}`), 401, "unauthorized"},
		{"login with bad JSON", "POST", "/api/v1/login", "", js, []byte(`{"user":`), 400, "bad_request"},
		{"login with unknown fields", "POST", "/api/v1/login", "", js, []byte(`{"user":"duty","pass":"x"}`), 400, "unknown_field"},
		{"login without a password", "POST", "/api/v1/login", "", js, []byte(`{"user":"duty"}`), 400, "bad_request"},
		{"login as a form", "POST", "/api/v1/login", "", "application/x-www-form-urlencoded", []byte("user=duty"), 415, "bad_content_type"},
		{"login by GET", "GET", "/api/v1/login", "", "", nil, 405, "method_not_allowed"},
		{"cameras without token", "GET", "/api/v1/cameras", "", "", nil, 401, "unauthorized"},
		{"cameras with a garbage token", "GET", "/api/v1/cameras", "x.y", "", nil, 401, "unauthorized"},
		{"refresh without token", "POST", "/api/v1/token/refresh", "", "", nil, 401, "unauthorized"},
		{"refresh with a publish token", "POST", "/api/v1/token/refresh", pub, "", nil, 401, "unauthorized"},
		{"refresh by GET", "GET", "/api/v1/token/refresh", duty, "", nil, 405, "method_not_allowed"},
		{"events without token", "GET", "/api/v1/events", "", "", nil, 401, "unauthorized"},
		{"events with a forged token", "GET", "/api/v1/events", "eyJ1IjoiZHV0eSJ9.c2ln", "", nil, 401, "unauthorized"},
		{"metrics by POST", "POST", "/metrics", "", "", nil, 405, "method_not_allowed"},
		{"unknown route", "GET", "/api/v1/nothing", duty, "", nil, 404, "not_found"},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, b := apitest.Call(t, c.method, r.URL()+c.path, c.token, map[string]string{"Content-Type": c.contentType}, c.body)
			e, ok := apitest.Refusal(b)
			if !ok {
				t.Fatalf("%d, body is not the API's error: %q", resp.StatusCode, b)
			}
			if resp.StatusCode != c.status || e.Code != c.code || e.Message == "" {
				t.Fatalf("got %d %s (%q), want %d %s", resp.StatusCode, e.Code, e.Message, c.status, c.code)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
			if c.code == "camera_offline" && resp.Header.Get("Retry-After") != "2" {
				t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
			if c.code == "method_not_allowed" && (resp.Header.Get("Allow") == "" || strings.Contains(resp.Header.Get("Allow"), "PATCH")) {
				t.Fatalf("405 with Allow %q", resp.Header.Get("Allow"))
			}
			if c.method == "PATCH" && (resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(e.Message, "RFC 9725")) {
				t.Fatalf("PATCH answer: CORS %q, message %q", resp.Header.Get("Access-Control-Allow-Origin"), e.Message)
			}
			if strings.HasPrefix(c.path, "/wh") && c.method != "GET" && resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatal("WHIP/WHEP error without CORS headers")
			}
			// The relay keeps serving.
			if resp, _ := apitest.Call(t, "GET", r.URL()+"/healthz", "", nil, nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("healthz %d after the bad request", resp.StatusCode)
			}
		})
	}
	if n := r.whep.Count(); n != 0 {
		t.Fatalf("%d WHEP sessions left by rejected requests", n)
	}
}

func TestCORSPreflight(t *testing.T) {
	r := startDemo(t, "")
	cases := []struct{ path, allow, methods, acceptPost string }{
		{"/whip/site-01/doff1", "POST, OPTIONS", "POST, OPTIONS", "application/sdp"},
		{"/whep/site-01/doff1", "POST, OPTIONS", "POST, OPTIONS", "application/sdp"},
		// A browser may send PATCH (trickle ICE), to be told 405 in a way
		// it can read.
		{"/whip/site-01/doff1/some-session", "DELETE, OPTIONS", "DELETE, PATCH, OPTIONS", ""},
		{"/whep/site-01/doff1/some-session", "DELETE, OPTIONS", "DELETE, PATCH, OPTIONS", ""},
	}
	for _, c := range cases {
		resp, _ := apitest.Call(t, "OPTIONS", r.URL()+c.path, "", nil, nil)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Allow") != c.allow ||
			h.Get("Access-Control-Allow-Methods") != c.methods || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
			h.Get("Accept-Post") != c.acceptPost || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "Location") {
			t.Errorf("OPTIONS %s: %d %v", c.path, resp.StatusCode, h)
		}
	}
}
