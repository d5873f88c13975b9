package relaytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
	"github.com/qianliyan/qianliyan/relay/peer"
)

// login signs in as the demo's duty officer and returns the token.
func login(t *testing.T, r *Relay) string {
	t.Helper()
	token, _ := loginExpiry(t, r)
	return token
}

// play watches camera's main stream with token, until the test ends, and
// returns its first unit; or the relay's refusal.
func play(t *testing.T, r *Relay, token, camera string) (avc.AccessUnit, error) {
	t.Helper()
	_, au, err := watch(t, r, token, camera)
	return au, err
}

// watch is play that also gives the viewer.
func watch(t *testing.T, r *Relay, token, camera string) (*webrtcclient.Viewer, avc.AccessUnit, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventually.Ceiling)
	defer cancel()
	v, err := webrtcclient.Play(ctx, r.URL()+"/whep/"+camera+"?stream=main", webrtcclient.Config{Token: token})
	if err != nil {
		return nil, avc.AccessUnit{}, err
	}
	t.Cleanup(func() { v.PC.Close() })
	units := make(chan avc.AccessUnit, 1)
	go v.Read(context.Background(), func(au avc.AccessUnit) {
		select {
		case units <- au:
		default:
		}
	})
	select {
	case au := <-units:
		return v, au, nil
	case <-ctx.Done():
		t.Fatalf("no video of %s", camera)
		return nil, avc.AccessUnit{}, nil
	}
}

// code is the relay's error code in err, "" if none.
func code(err error) string {
	var e *webrtcclient.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestControlsActOnTheRelay(t *testing.T) {
	r := Start(t, Options{Cameras: []string{"site-01/doff1"}})
	token := login(t, r)
	au, err := play(t, r, token, "site-01/doff1")
	if err != nil || !au.Keyframe {
		t.Fatalf("first unit of a published camera: keyframe %v, %v", au.Keyframe, err)
	}
	if _, err := play(t, r, token, "site-01/doff2"); code(err) != "camera_offline" {
		t.Fatalf("a camera not published: %v, want camera_offline", err)
	}

	// Offline: the publisher has left once SetOnline returns.
	r.SetOnline(t, "site-01/doff1", false)
	if _, err := play(t, r, token, "site-01/doff1"); code(err) != "camera_offline" {
		t.Fatalf("a camera taken offline: %v, want camera_offline", err)
	}
	r.SetOnline(t, "site-01/doff1", true)
	r.Pause(t, "site-01/doff1", true)
	r.WaitStalled(t, "site-01/doff1")
	r.Pause(t, "site-01/doff1", false)
	if _, err := play(t, r, token, "site-01/doff1"); err != nil {
		t.Fatalf("a camera back online: %v", err)
	}

	// A restart ends the sessions; the token stays good.
	r.Restart(t)
	for i, s := range r.Sessions(t) {
		if s.Ended.IsZero() || s.EndReason != peer.ReasonShutdown {
			t.Errorf("session #%d after a restart: %+v, want ended by the shutdown", i, s)
		}
	}
	if _, err := play(t, r, token, "site-01/doff1"); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	// A new key refuses it.
	r.RestartWithNewKey(t)
	if _, err := play(t, r, token, "site-01/doff1"); code(err) != "unauthorized" {
		t.Fatalf("an old token after a new key: %v, want unauthorized", err)
	}
	login(t, r)
	if n := r.Logins(t); n != 2 {
		t.Fatalf("%d sign-ins across restarts, want 2", n)
	}
	if n := len(r.Sessions(t)); n != 3 {
		t.Fatalf("%d sessions recorded, want 3", n)
	}
}

func TestStopResumeConfigAndClock(t *testing.T) {
	clock := fakeclock.New(time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC))
	r := Start(t, Options{Cameras: []string{"site-01/doff1"}, Config: "auth: {token_ttl: 10m}\n", Now: clock.Now})
	token, expires := loginExpiry(t, r)
	if want := clock.Now().Add(10 * time.Minute); !expires.Equal(want) {
		t.Fatalf("token expires %v, want the relay's clock plus the configured 10 min, %v", expires, want)
	}

	// Stopped, the relay is away; resumed, with a configuration changed
	// meanwhile, it has its data and its cameras publish again.
	r.Stop(t)
	if _, err := http.Get(r.URL() + "/api/v1/cameras"); err == nil {
		t.Fatal("a stopped relay answers")
	}
	r.SetConfig(t, `sites:
  - id: site-99
    district: {zh-CN: 测试区, en: Test district}
    name: {zh-CN: 新隔离点, en: New site}
    time_zone: Asia/Shanghai
    cameras:
      - {id: doff1, zone: doffing_room_1, name: {zh-CN: 一脱间, en: Doffing room 1}}
`)
	r.Resume(t)
	if _, err := play(t, r, token, "site-01/doff1"); err != nil {
		t.Fatalf("after Resume: %v", err)
	}
	var sites int
	if err := r.DB(t).QueryRow(`SELECT count(*) FROM sites`).Scan(&sites); err != nil || sites != 4 {
		t.Fatalf("%d sites in the relay's database (%v), want the demo's 3 and site-99", sites, err)
	}
	// The token lapses on the relay's clock.
	clock.Advance(11 * time.Minute)
	if _, err := play(t, r, token, "site-01/doff1"); code(err) != "unauthorized" {
		t.Fatalf("an expired token: %v, want unauthorized", err)
	}
}

func TestProxyFailsWhatItIsToldAndPassesTheRest(t *testing.T) {
	r := Start(t, Options{})
	p := NewProxy(t, r.URL())
	p.Fail("/api/v1/cameras", http.StatusServiceUnavailable)
	login := []byte(`{"user":"` + r.Demo().User + `","password":"` + r.Demo().Password + `"}`)
	resp, err := http.Post(p.URL()+"/api/v1/login", "application/json", bytes.NewReader(login))
	if err != nil {
		t.Fatal(err)
	}
	var signedIn struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&signedIn); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in through the proxy: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	resp, err = http.Get(p.URL() + "/api/v1/cameras")
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Error struct{ Code string } }
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != "proxy_failure" {
		t.Fatalf("a failed path: %d %+v %v", resp.StatusCode, e, err)
	}
	resp.Body.Close()
	p.Fail("/api/v1/cameras", 0)
	resp, err = http.Get(p.URL() + "/api/v1/cameras")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("passed on again without a token: %d, want the relay's 401", resp.StatusCode)
	}
	// An event stream is open while the relay answers it.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL()+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+signedIn.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("event stream through the proxy: %v %v", resp, err)
	}
	if n := p.Open("/api/v1/events"); n != 1 {
		t.Fatalf("%d event streams open, want 1", n)
	}
	cancel()
	resp.Body.Close()
	eventually.True(t, eventually.Ceiling, "the event stream closed at the proxy", func() bool { return p.Open("/api/v1/") == 0 })
	calls := p.Calls("/api/v1/")
	if len(calls) != 4 || string(calls[0].Body) != string(login) || calls[0].Status != 0 || calls[1].Status != http.StatusServiceUnavailable {
		t.Fatalf("calls %+v", calls)
	}
}

// loginExpiry signs in as the demo's duty officer and returns the token and
// its expiry.
func loginExpiry(t *testing.T, r *Relay) (string, time.Time) {
	t.Helper()
	creds := r.Demo()
	body, _ := json.Marshal(map[string]string{"user": creds.User, "password": creds.Password})
	resp, err := http.Post(r.URL()+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token     string
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d, %v", resp.StatusCode, err)
	}
	return out.Token, out.ExpiresAt
}
