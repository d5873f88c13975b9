package findings_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/sitesim"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/relay"
)

// buildConsole builds the qianliyan command from this checkout (no window
// tags: --serve needs none).
func buildConsole(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "frontend", "dist", "index.html")); err != nil {
		t.Fatalf("frontend/dist is missing: run `make build` first (make test does): %v", err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "qianliyan")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building qianliyan: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer collects a process's log for the test's failure messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// consoleProcess is a running `qianliyan --serve`.
type consoleProcess struct {
	cmd         *exec.Cmd
	log         *lockedBuffer
	base, token string
}

func startConsole(t *testing.T, bin string, args []string, password string) *consoleProcess {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "QLY_PASSWORD="+password)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &consoleProcess{cmd: cmd, log: &lockedBuffer{}}
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, r)
	}()
	select {
	case line := <-lines:
		m := regexp.MustCompile(`^(http://127\.0\.0\.1:\d+)/\?token=(\S+)\n$`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("qianliyan printed %q; log:\n%s", line, p.log.String())
		}
		p.base, p.token = m[1], m[2]
	case <-time.After(30 * time.Second):
		t.Fatalf("qianliyan printed no address within 30 s; log:\n%s", p.log.String())
	}
	return p
}

func (p *consoleProcess) request(t *testing.T, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, p.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v; log:\n%s", method, path, err, p.log.String())
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// watch opens the camera over the video bridge as the view does, reads it
// for a while and returns the presentation time of the last picture; the
// bridge stays open until the test ends.
func (p *consoleProcess) watch(t *testing.T, camera string, span time.Duration) uint64 {
	t.Helper()
	q := url.Values{"camera": {camera}, "stream": {"main"}, "token": {p.token}}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.base, "http")+"/ws/video?"+q.Encode(), http.Header{"Origin": {p.base}})
	if err != nil {
		t.Fatalf("opening the video bridge: %v; log:\n%s", err, p.log.String())
	}
	t.Cleanup(func() { ws.Close() })
	var pts uint64
	pictures := 0
	until := time.Now().Add(span)
	for time.Now().Before(until) || pictures == 0 {
		_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
		kind, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("reading the video bridge: %v; log:\n%s", err, p.log.String())
		}
		if kind == websocket.BinaryMessage {
			pts = binary.BigEndian.Uint64(b[1:9])
			pictures++
		}
	}
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	return pts
}

// TestConsoleKilledMidClip flags a finding through the real console binary
// against a real relay and simulated site, kills the console with SIGKILL
// right after the 201, and starts it again on the same data: the finding is
// there with its snapshot, and its clip is filed incomplete and plays up to
// where the recording stopped.
func TestConsoleKilledMidClip(t *testing.T) {
	bin := buildConsole(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	rl, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Close()
	creds := rl.Demo()
	sim, err := sitesim.Start(ctx, sitesim.Options{
		RelayURL: rl.URL(), Token: creds.PublishToken, Sites: 1, Cameras: 1,
		FPS: 15, GOP: time.Second, Width: 320, Height: 180, NoSub: true, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	dataDir := t.TempDir()
	// A long clip-after: the console is surely still recording when killed.
	args := []string{"--serve", "127.0.0.1:0", "--relay", rl.URL(), "--user", creds.User, "--data", dataDir,
		"--clip-before", "3s", "--clip-after", "30s", "--log-level", "warn"}
	first := startConsole(t, bin, args, creds.Password)
	pts := first.watch(t, "site-01/doff1", 4*time.Second)

	jpg := snapshot(t, 320, 180, 7)
	body := flagBody(t, time.Duration(pts)*time.Microsecond, jpg)
	body["snapshot_width"], body["snapshot_height"] = 320, 180
	status, raw := first.request(t, "POST", "/api/v1/findings", mustJSON(t, body))
	if status != 201 {
		t.Fatalf("flag: %d %s; log:\n%s", status, raw, first.log.String())
	}
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	var flagged store.Finding
	if err := json.Unmarshal(raw, &flagged); err != nil {
		t.Fatal(err)
	}
	// The pre-roll reached the disk before the 201.
	partial := filepath.Join(dataDir, "evidence", "partial", flagged.ID+".mp4")
	if st, err := os.Stat(partial); err != nil || st.Size() == 0 {
		t.Fatalf("no partial clip after the kill: %v", err)
	}

	second := startConsole(t, bin, args, creds.Password)
	var f struct {
		store.Finding
		Events []store.Event `json:"events"`
	}
	status, raw = second.request(t, "GET", "/api/v1/findings/"+flagged.ID, nil)
	if status != 200 {
		t.Fatalf("finding after the restart: %d %s", status, raw)
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if f.Observer != creds.User || f.Snapshot == nil || f.Clip == nil {
		t.Fatalf("finding after the restart: %+v", f)
	}
	if f.Clip.State != "incomplete" || f.Clip.File == "" {
		t.Fatalf("clip after the restart %+v, want incomplete with its file", f.Clip)
	}
	if last := f.Events[len(f.Events)-1]; last.Action != "clip_incomplete" || last.Actor != "console" {
		t.Fatalf("last event %+v", last)
	}

	// The snapshot and the clip, as the view fetches them.
	status, gotJPG := second.request(t, "GET", "/api/v1/evidence/"+f.Snapshot.File, nil)
	if status != 200 || !bytes.Equal(gotJPG, jpg) || f.Snapshot.Width != 320 || f.Snapshot.Height != 180 {
		t.Fatalf("snapshot: %d, %d bytes (want %d), %dx%d", status, len(gotJPG), len(jpg), f.Snapshot.Width, f.Snapshot.Height)
	}
	status, mp4 := second.request(t, "GET", "/api/v1/evidence/"+f.Clip.File, nil)
	if status != 200 || int64(len(mp4)) != f.Clip.Bytes {
		t.Fatalf("clip: %d, %d bytes of %d", status, len(mp4), f.Clip.Bytes)
	}
	clipPath := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(clipPath, mp4, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := testmedia.ProbeFile(clipPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("clip after the kill and restart: %+v (%d bytes)", p, len(mp4))
	// The pre-roll is 3 s from a keyframe; a crash costs at most the
	// fragment being written (a GOP here).
	if p.Codec != "h264" || !p.FirstKeyframe || p.Width != 320 || p.Height != 180 || p.Duration < 2*time.Second {
		t.Fatalf("clip %+v, want 320x180 H.264 from a keyframe of at least 2 s", p)
	}
}
