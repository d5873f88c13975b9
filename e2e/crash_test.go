package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testlog"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// consoleProcess is a running `bin/qianliyan --serve`, with its view's API.
type consoleProcess struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited
	log  *testlog.Buffer
	api  *apiClient // with the launch secret
}

// startConsoleProcess starts bin/qianliyan with args and the password in
// its environment, and returns once it has printed its view's address. It
// is stopped (SIGTERM, then SIGKILL) when the test ends, if not before.
func startConsoleProcess(t *testing.T, args []string, password string) *consoleProcess {
	t.Helper()
	cmd := exec.Command(requireBuilt(t, "bin/qianliyan"), args...)
	cmd.Env = append(os.Environ(), "QLY_PASSWORD="+password)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &consoleProcess{cmd: cmd, done: make(chan struct{}), log: &testlog.Buffer{}}
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(eventually.Ceiling):
			cmd.Process.Kill()
			<-p.done
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
		p.api = &apiClient{t: t, base: m[1], token: m[2]}
	case <-time.After(eventually.Ceiling):
		t.Fatalf("qianliyan printed no address; log:\n%s", p.log.String())
	}
	return p
}

// kill ends the console with SIGKILL: no deferred function, no flush.
func (p *consoleProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// watch opens the camera over the video bridge as the view does, reads it
// until span of video has come and returns the presentation time of the
// last picture; the bridge stays open, read, until the test ends.
func (p *consoleProcess) watch(t *testing.T, camera string, span time.Duration) uint64 {
	t.Helper()
	q := url.Values{"camera": {camera}, "stream": {"main"}, "token": {p.api.token}}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.api.base, "http")+"/ws/video?"+q.Encode(), http.Header{"Origin": {p.api.base}})
	if err != nil {
		t.Fatalf("opening the video bridge: %v; log:\n%s", err, p.log.String())
	}
	t.Cleanup(func() { ws.Close() })
	var first, pts uint64
	pictures := 0
	for pictures == 0 || time.Duration(pts-first)*time.Microsecond < span {
		_ = ws.SetReadDeadline(time.Now().Add(eventually.Ceiling))
		kind, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("reading the video bridge: %v; log:\n%s", err, p.log.String())
		}
		if kind == websocket.BinaryMessage {
			pts = binary.BigEndian.Uint64(b[1:9])
			if pictures == 0 {
				first = pts
			}
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
// against a real relay and camera, kills the console with SIGKILL right
// after the 201, and starts it again on the same data: the finding is there
// with its snapshot, and its clip is filed incomplete and plays up to where
// the recording stopped.
func TestConsoleKilledMidClip(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	creds := relay.Demo()
	dataDir := t.TempDir()
	// A long clip-after: the console is surely still recording when killed.
	args := []string{"--serve", "127.0.0.1:0", "--relay", relay.URL(), "--user", creds.User, "--data", dataDir,
		"--clip-before", "3s", "--clip-after", "30s", "--log-level", "warn"}
	first := startConsoleProcess(t, args, creds.Password)
	// More video than the pre-roll, so that the clip has all of it.
	pts := first.watch(t, "site-01/doff1", 4*time.Second)

	jpg, err := testmedia.JPEG(relaytest.Width, relaytest.Height)
	if err != nil {
		t.Fatal(err)
	}
	flag := map[string]any{
		"camera": "site-01/doff1", "stream": "main", "pts_us": pts,
		"template_id": "ppe-doffing", "template_version": 1, "step": "goggles",
		"deviation": "wrong_order", "deviation_text": "脱卸顺序错误", "severity": "major",
		"deadline": time.Now().Add(48 * time.Hour).Format(time.RFC3339),
		"snapshot": base64.StdEncoding.EncodeToString(jpg), "snapshot_width": relaytest.Width, "snapshot_height": relaytest.Height,
	}
	var flagged store.Finding
	if status, raw := first.api.do("POST", "/api/v1/findings", flag, &flagged); status != http.StatusCreated {
		t.Fatalf("flag: %d %s; log:\n%s", status, raw, first.log.String())
	}
	first.kill(t)
	// The pre-roll reached the disk before the 201.
	partial := filepath.Join(dataDir, "evidence", "partial", flagged.ID+".mp4")
	if st, err := os.Stat(partial); err != nil || st.Size() == 0 {
		t.Fatalf("no partial clip after the kill: %v", err)
	}

	second := startConsoleProcess(t, args, creds.Password)
	var f struct {
		store.Finding
		Events []store.Event `json:"events"`
	}
	if status, raw := second.api.do("GET", "/api/v1/findings/"+flagged.ID, nil, &f); status != http.StatusOK {
		t.Fatalf("finding after the restart: %d %s", status, raw)
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
	status, gotJPG := second.api.do("GET", "/api/v1/evidence/"+f.Snapshot.File, nil, nil)
	if status != http.StatusOK || !bytes.Equal(gotJPG, jpg) || f.Snapshot.Width != relaytest.Width || f.Snapshot.Height != relaytest.Height {
		t.Fatalf("snapshot: %d, %d bytes (want %d), %dx%d", status, len(gotJPG), len(jpg), f.Snapshot.Width, f.Snapshot.Height)
	}
	status, mp4 := second.api.do("GET", "/api/v1/evidence/"+f.Clip.File, nil, nil)
	if status != http.StatusOK || int64(len(mp4)) != f.Clip.Bytes {
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
	if p.Codec != "h264" || !p.FirstKeyframe || p.Width != relaytest.Width || p.Height != relaytest.Height || p.Duration < 2*time.Second {
		t.Fatalf("clip %+v, want %dx%d H.264 from a keyframe of at least 2 s", p, relaytest.Width, relaytest.Height)
	}
}
