package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
)

// TestIndependentWHEPClient pulls a simulated camera with a plain pion peer
// that shares nothing with the console: only the WHEP exchange and a login.
func TestIndependentWHEPClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := startStack(t, ctx, 1, 1)

	token := login(t, st.relay.URL(), st.creds.User, st.creds.Password)
	api, err := webrtcavc.NewAPI(webrtcavc.Settings(true))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	units := make(chan avc.AccessUnit, 64)
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		webrtcavc.ReadTrack(ctx, track, func(au avc.AccessUnit) {
			select {
			case units <- au:
			default:
			}
		})
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered

	// The camera may take a moment to come online after sitesim starts.
	var answer string
	var location string
	for deadline := time.Now().Add(20 * time.Second); ; {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, st.relay.URL()+"/whep/site-01/doff1", strings.NewReader(pc.LocalDescription().SDP))
		req.Header.Set("Content-Type", "application/sdp")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			answer, location = string(body), resp.Header.Get("Location")
			break
		}
		if resp.StatusCode != http.StatusConflict || time.Now().After(deadline) {
			t.Fatalf("WHEP POST: %d %s", resp.StatusCode, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if location == "" {
		t.Error("WHEP 201 without Location")
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatalf("applying answer: %v", err)
	}

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
