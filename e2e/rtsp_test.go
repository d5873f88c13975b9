package e2e

import (
	"context"
	"errors"
	"fmt"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/sitesim"
	"github.com/qianliyan/qianliyan/relay"
)

// TestRelayPullsRTSPCamera runs sitesim as a pair of IP cameras (RTSP with
// Digest authentication, main and sub streams), declares them in a relay
// config file, and watches them over WHEP: the whole RTSP ingest path.
func TestRelayPullsRTSPCamera(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	log := testLogger(t)
	sim, err := sitesim.Start(ctx, sitesim.Options{
		Sites: 1, Cameras: 1, FPS: 15, GOP: 2 * time.Second, Width: 320, Height: 180, SubWidth: 160, SubHeight: 90,
		RTSPAddr: "127.0.0.1:0", RTSPUser: "admin", RTSPPassword: "cam:p@ss", RTSPDigestOnly: true, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	dir := t.TempDir()
	config := fmt.Sprintf(`webrtc:
  loopback_only: true
sites:
  - id: rtsp-01
    district: {zh-CN: 东城区, en: Dongcheng District}
    name: {zh-CN: 网络摄像机隔离点, en: IP camera site}
    time_zone: Asia/Shanghai
    cameras:
      - id: doff1
        zone: doffing_room_1
        name: {zh-CN: 一脱间, en: Doffing room 1}
        main: {url: %q, transport: tcp}
        sub: {url: %q, transport: auto}
`, sim.RTSPURL("site-01", "doff1", sitesim.StreamMain), sim.RTSPURL("site-01", "doff1", sitesim.StreamSub))
	configFile := filepath.Join(dir, "relay.yaml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"), Demo: true, ConfigFile: configFile, Log: log})
	if err != nil {
		t.Fatalf("starting relay: %v", err)
	}
	defer r.Close()
	token := login(t, r.URL(), r.Demo().User, r.Demo().Password)
	waitStreamsOnline(t, r.URL(), token, "rtsp-01", "doff1", "main", "sub")

	for _, c := range []struct {
		stream        string
		width, height int
	}{{"main", 320, 180}, {"sub", 160, 90}} {
		t.Run(c.stream, func(t *testing.T) {
			units := watchWHEP(t, ctx, r.URL(), token, "rtsp-01/doff1?stream="+c.stream)
			select {
			case au := <-units:
				sps, _ := au.ParamSets()
				info, err := avc.ParseSPS(sps)
				if !au.Keyframe || err != nil || info.Width != c.width || info.Height != c.height {
					t.Fatalf("first unit: keyframe=%v %+v %v, want %dx%d", au.Keyframe, info, err, c.width, c.height)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no video from the RTSP camera within 20 s")
			}
		})
	}
}

// watchWHEP plays path ("site/camera?stream=…") from the relay, retrying while
// the camera is not yet online, and hands its access units to a channel.
func watchWHEP(t *testing.T, ctx context.Context, relayURL, token, path string) <-chan avc.AccessUnit {
	t.Helper()
	var v *webrtcclient.Viewer
	for deadline := time.Now().Add(20 * time.Second); ; {
		var err error
		v, err = webrtcclient.Play(ctx, relayURL+"/whep/"+path, webrtcclient.Config{Token: token})
		if err == nil {
			break
		}
		var apiErr *webrtcclient.Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict || time.Now().After(deadline) {
			t.Fatalf("WHEP %s: %v", path, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Cleanup(func() { v.Close(context.Background()) })
	units := make(chan avc.AccessUnit, 64)
	go v.Read(ctx, func(au avc.AccessUnit) {
		select {
		case units <- au:
		default:
		}
	})
	return units
}

// waitStreamsOnline polls the relay's camera list until every named stream of
// the camera is online (the relay serves a camera's other stream meanwhile).
func waitStreamsOnline(t *testing.T, relayURL, token, site, camera string, streams ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, relayURL+"/api/v1/cameras", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Cameras []struct {
				Site    string `json:"site"`
				ID      string `json:"id"`
				Streams map[string]struct {
					State string `json:"state"`
				} `json:"streams"`
			} `json:"cameras"`
		}
		err = decodeJSON(resp.Body, &list)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("camera list: %v", err)
		}
		online := 0
		for _, c := range list.Cameras {
			if c.Site == site && c.ID == camera {
				for _, s := range streams {
					if c.Streams[s].State == "online" {
						online++
					}
				}
			}
		}
		if online == len(streams) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s streams %v not all online within 30 s", site, camera, streams)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
