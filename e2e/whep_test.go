package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
)

// TestIndependentWHEPClient pulls a simulated camera with a plain pion peer
// that shares nothing with the console: only the WHEP exchange and a login.
func TestIndependentWHEPClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := startStack(t, ctx, 1, 1)

	cfg := webrtcclient.Config{Token: login(t, st.relay.URL(), st.creds.User, st.creds.Password)}
	// The camera may take a moment to come online after sitesim starts.
	var v *webrtcclient.Viewer
	for deadline := time.Now().Add(20 * time.Second); ; {
		var err error
		v, err = webrtcclient.Play(ctx, st.relay.URL()+"/whep/site-01/doff1", cfg)
		if err == nil {
			break
		}
		var refused *webrtcclient.Error
		if !errors.As(err, &refused) || refused.Status != http.StatusConflict || time.Now().After(deadline) {
			t.Fatalf("WHEP POST: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	defer v.PC.Close()
	if !strings.HasPrefix(v.Session.Location, "/whep/site-01/doff1/") {
		t.Errorf("WHEP Location %q", v.Session.Location)
	}
	units := make(chan avc.AccessUnit, 64)
	go v.Read(ctx, func(au avc.AccessUnit) {
		select {
		case units <- au:
		default:
		}
	})

	select {
	case au := <-units:
		sps, pps := au.ParamSets()
		if !au.Keyframe || sps == nil || pps == nil {
			t.Fatalf("first access unit is not a keyframe with SPS and PPS (keyframe=%v)", au.Keyframe)
		}
		info, err := avc.ParseSPS(sps)
		if err != nil || info.Width != 320 || info.Height != 180 {
			t.Fatalf("SPS %+v, %v; want 320x180", info, err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no video within 15 s")
	}
	for i := 0; i < 15; i++ {
		select {
		case <-units:
		case <-time.After(5 * time.Second):
			t.Fatalf("video stopped after %d units", i+1)
		}
	}
	if err := v.Close(ctx); err != nil {
		t.Errorf("ending the session: %v", err)
	}
}

func login(t *testing.T, relayURL, user, password string) string {
	t.Helper()
	body := `{"user":"` + user + `","password":"` + password + `"}`
	resp, err := http.Post(relayURL+"/api/v1/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("login: %d %s", resp.StatusCode, b)
	}
	if err := decodeJSON(resp.Body, &out); err != nil || out.Token == "" {
		t.Fatalf("login answer: %v", err)
	}
	return out.Token
}
