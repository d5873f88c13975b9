package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testlog"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/rtsppull"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestBadCommandLines(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"size without x", []string{"--size", "640by360"}, map[string]string{"QLY_PUBLISH_TOKEN": "t"}, `--size "640by360"`},
		{"size with a stray x", []string{"--size", "640x360x2"}, map[string]string{"QLY_PUBLISH_TOKEN": "t"}, `--size "640x360x2"`},
		{"odd size", []string{"--size", "641x360"}, map[string]string{"QLY_PUBLISH_TOKEN": "t"}, "--size"},
		{"negative size", []string{"--size", "-640x360"}, map[string]string{"QLY_PUBLISH_TOKEN": "t"}, "--size"},
		{"no token", nil, nil, "QLY_PUBLISH_TOKEN"},
		{"zero fps", []string{"--token", "t", "--fps", "0"}, nil, "--fps 0"},
		{"GOP under a frame", []string{"--token", "t", "--gop", "0.01"}, nil, "--gop 0.01"},
		{"too many cameras", []string{"--token", "t", "--cameras", "13"}, nil, "--cameras 13"},
		{"relay without scheme", []string{"--token", "t", "--relay", "127.0.0.1:8080"}, nil, "--relay"},
		{"unknown flag", []string{"--token", "t", "--colour", "red"}, nil, "colour"},
		{"stray argument", []string{"--token", "t", "extra"}, nil, `unexpected argument "extra"`},
		{"log level", []string{"--token", "t", "--log-level", "loud"}, nil, `log level "loud"`},
		{"odd sub size", []string{"--token", "t", "--sub-size", "161x90"}, nil, `--sub-size "161x90"`},
		{"sub larger than main", []string{"--token", "t", "--size", "320x180", "--sub-size", "640x360"}, nil, "larger than --size"},
		{"nothing to do", []string{"--relay", ""}, nil, "nothing to do"},
		{"no token, RTSP too", []string{"--rtsp", "127.0.0.1:8554"}, nil, `--relay ""`},
		{"RTSP address without port", []string{"--relay", "", "--rtsp", "127.0.0.1"}, nil, `--rtsp "127.0.0.1"`},
		{"odd RTSP UDP port", []string{"--relay", "", "--rtsp", "127.0.0.1:8554", "--rtsp-udp", "127.0.0.1:8001"}, nil, "even port"},
		{"RTSP UDP without RTSP", []string{"--token", "t", "--rtsp-udp", "127.0.0.1:8000"}, nil, "need --rtsp"},
		{"RTSP user without password", []string{"--relay", "", "--rtsp", "127.0.0.1:8554", "--rtsp-user", "admin"}, nil, "QLY_RTSP_PASSWORD"},
		{"RTSP password without user", []string{"--relay", "", "--rtsp", "127.0.0.1:8554", "--rtsp-password", "x"}, nil, "without --rtsp-user"},
		{"digest without user", []string{"--relay", "", "--rtsp", "127.0.0.1:8554", "--rtsp-digest-only"}, nil, "--rtsp-digest-only"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), tc.args, env(tc.env), &stderr)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("stderr %q does not mention %q", stderr.String(), tc.want)
			}
		})
	}
}

func TestNoFFmpeg(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"--token", "t"}, env(nil), &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "ffmpeg not found") {
		t.Fatalf("exit %d, stderr %q; want 1 and a word about ffmpeg", code, stderr.String())
	}
}

// TestRunStopsOnSignal runs the command against a relay that refuses every
// offer, and cancels it (what SIGINT and SIGTERM do) once it has tried.
func TestRunStopsOnSignal(t *testing.T) {
	var posts atomic.Int32
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer from-env" && r.URL.Path == "/whip/site-01/doff1" {
			posts.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"forbidden","message":"not this site"}}`))
	}))
	defer relay.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr testlog.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--relay", relay.URL, "--sites", "1", "--cameras", "1", "--size", "160x90", "--gop", "0.5"},
			env(map[string]string{"QLY_PUBLISH_TOKEN": "from-env"}), &stderr)
	}()
	eventually.True(t, eventually.Ceiling, "a WHIP offer with the token from QLY_PUBLISH_TOKEN", func() bool { return posts.Load() > 0 })
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after cancel, want 0", code)
		}
	case <-time.After(eventually.Ceiling):
		t.Fatalf("did not stop within %v of cancel", eventually.Ceiling)
	}
}

// TestRunServesRTSPOnly runs the command with WHIP off and RTSP on, with the
// password from the environment, and pulls the main stream with the relay's
// RTSP ingest; the sub stream is switched off and not served.
func TestRunServesRTSPOnly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 4*eventually.Ceiling) // a hang's guard
	defer cancel()
	var stderr testlog.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--relay", "", "--rtsp", addr, "--rtsp-user", "admin", "--sites", "1", "--cameras", "1",
			"--size", "160x90", "--sub-size", "none", "--gop", "0.5"},
			env(map[string]string{"QLY_RTSP_PASSWORD": "from-env"}), &stderr)
	}()

	h := hub.New(hub.Config{})
	defer h.Close()
	pull := func(stream string) (hub.Key, chan error) {
		key := hub.Key{Site: "site-01", Camera: "doff1", Stream: stream}
		ended := make(chan error, 16)
		go rtsppull.Run(ctx, h, rtsppull.Source{Key: key, URL: "rtsp://admin:from-env@" + addr + "/site-01/doff1/" + stream, Transport: "tcp"},
			rtsppull.Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Log: zerolog.Nop(),
				OnReconnect: func(_ hub.Key, err error) {
					select {
					case ended <- err:
					default:
					}
				}})
		return key, ended
	}
	mainKey, _ := pull("main")
	_, subEnded := pull("sub")

	r, err := h.Subscribe(mainKey)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rctx, rcancel := context.WithTimeout(ctx, eventually.Ceiling)
	au, err := r.Read(rctx)
	rcancel()
	if err != nil {
		t.Fatalf("no picture over RTSP within %v: %v; stderr:\n%s", eventually.Ceiling, err, stderr.String())
	}
	sps, _ := au.ParamSets()
	info, err := avc.ParseSPS(sps)
	if err != nil || !au.Keyframe || info.Width != 160 || info.Height != 90 {
		t.Fatalf("first unit: keyframe=%v %+v %v, want a 160x90 keyframe", au.Keyframe, info, err)
	}
	// The sub stream is off: its path is unknown. (Attempts made before
	// the server listened fail otherwise.)
	var subErr error
	for deadline := time.After(eventually.Ceiling); subErr == nil || !strings.Contains(subErr.Error(), "404"); {
		select {
		case subErr = <-subEnded:
		case <-deadline:
			t.Fatalf("pulling the switched-off sub stream: %v, want a 404 within %v", subErr, eventually.Ceiling)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after cancel, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(eventually.Ceiling):
		t.Fatalf("did not stop within %v of cancel", eventually.Ceiling)
	}
	if strings.Contains(stderr.String(), "from-env") {
		t.Fatal("the RTSP password was logged")
	}
}
