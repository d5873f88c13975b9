package console

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// findingsView is a browser on the served console: its address and secret.
type findingsView struct {
	t           *testing.T
	base, token string
}

func (v findingsView) do(method, path, auth string, body any, out any) int {
	v.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			v.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, v.base+path, rd)
	if err != nil {
		v.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			v.t.Fatalf("%s %s: %d: %v", method, path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode
}

// frameOnScreen watches the camera over the video bridge for a while, as
// the view does, and returns the presentation time of the last picture and
// the bridge, still open.
func (v findingsView) frameOnScreen(watch time.Duration) (uint64, *websocket.Conn) {
	v.t.Helper()
	q := url.Values{"camera": {"site-01/doff1"}, "stream": {"main"}, "token": {v.token}}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+v.base[len("http"):]+"/ws/video?"+q.Encode(), http.Header{"Origin": {v.base}})
	if err != nil {
		v.t.Fatal(err)
	}
	// Keep reading after this returns, as the view does.
	defer func() {
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}()
	var pts uint64
	var pictures int
	until := time.Now().Add(watch)
	for time.Now().Before(until) || pictures == 0 {
		_ = ws.SetReadDeadline(time.Now().Add(within))
		kind, b, err := ws.ReadMessage()
		if err != nil {
			v.t.Fatalf("reading the bridge: %v", err)
		}
		if kind == websocket.BinaryMessage {
			pts = binary.BigEndian.Uint64(b[1:9])
			pictures++
		}
	}
	return pts, ws
}

func TestFindingsThroughTheServedConsole(t *testing.T) {
	relay := relaytest.Start(t, doff1)
	creds := relay.Demo()
	dataDir := t.TempDir()
	b, err := New(Options{
		RelayURL: relay.URL(), User: creds.User, Password: creds.Password,
		DataDir: dataDir, Assets: assets, ClipBefore: 2 * time.Second, ClipAfter: time.Second,
		Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	pageURL, err := b.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^(http://[^/]+)/\?token=(.+)$`).FindStringSubmatch(pageURL)
	v := findingsView{t: t, base: m[1], token: m[2]}
	auth := "Bearer " + v.token

	if status := v.do("GET", "/api/v1/checklists?zone=doffing_room_1", "", nil, nil); status != 401 {
		t.Fatalf("checklists without the launch secret: %d", status)
	}
	var lists struct {
		Templates []struct{ ID string } `json:"templates"`
	}
	if status := v.do("GET", "/api/v1/checklists?zone=doffing_room_1", auth, nil, &lists); status != 200 || len(lists.Templates) == 0 {
		t.Fatalf("checklists: %d %+v", status, lists)
	}

	pts, ws := v.frameOnScreen(2500 * time.Millisecond)
	var img bytes.Buffer
	if err := jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 320, 240)), nil); err != nil {
		t.Fatal(err)
	}
	flag := map[string]any{
		"camera": "site-01/doff1", "stream": "main", "pts_us": pts,
		"template_id": "ppe-doffing", "step": "goggles", "deviation": "wrong_order", "severity": "major",
		"deadline": time.Now().Add(time.Hour).Format(time.RFC3339), "snapshot": base64.StdEncoding.EncodeToString(img.Bytes()),
	}
	var f store.Finding
	if status := v.do("POST", "/api/v1/findings", auth, flag, &f); status != 201 {
		t.Fatalf("flag: %d", status)
	}
	// The view moves on: the finding's clip keeps the pull going on its own.
	ws.Close()
	// Flagged under the relay of the session, the only one it goes to.
	if f.Observer != creds.User || f.Relay != relay.URL() || f.Zone != "doffing_room_1" || f.Clip.State != "recording" {
		t.Fatalf("finding %+v", f)
	}
	var got store.Finding
	eventually.True(t, within, "the clip filed", func() bool {
		if status := v.do("GET", "/api/v1/findings/"+f.ID, auth, nil, &got); status != 200 {
			t.Fatalf("get: %d", status)
		}
		return got.Clip.State != "recording"
	})
	if got.Clip.State != "complete" || got.Clip.Duration < 2700*time.Millisecond {
		t.Fatalf("clip %+v, want complete and about 3 s", got.Clip)
	}

	// A clip still recording when the console stops is filed incomplete,
	// and what it has plays.
	pts, ws = v.frameOnScreen(2500 * time.Millisecond)
	defer ws.Close()
	flag["pts_us"] = pts
	if status := v.do("POST", "/api/v1/findings", auth, flag, &f); status != 201 {
		t.Fatalf("second flag: %d", status)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	after, err := st.Get(context.Background(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Clip.State != "incomplete" || after.Clip.File == "" {
		t.Fatalf("clip after Close %+v, want incomplete with its file", after.Clip)
	}
	path, _ := st.EvidencePath(after.Clip.File)
	if p, err := testmedia.ProbeFile(path); err != nil || p.Codec != "h264" || !p.FirstKeyframe || p.Duration < 2*time.Second {
		t.Fatalf("the incomplete clip: %+v, %v", p, err)
	}
}
