package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/qianliyan/qianliyan/internal/eventually"
)

func TestBadCommandLines(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "relay")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"nothing", nil, "Usage: bench firstframe|fanout"},
		{"unknown command", []string{"fanin"}, `unknown command "fanin"`},
		{"undefined flag", []string{"fanout", "--relay-bin", exe, "--nope"}, "flag provided but not defined: -nope"},
		{"not a number", []string{"fanout", "--relay-bin", exe, "--cameras", "many"}, `invalid value "many" for flag -cameras`},
		{"stray argument", []string{"firstframe", "--relay-bin", exe, "now"}, `unexpected argument "now"`},
		{"no relay binary", []string{"firstframe", "--relay-bin", filepath.Join(dir, "missing")}, "no such file (build it: go build -o"},
		{"relay binary a folder", []string{"firstframe", "--relay-bin", dir}, "not an executable file"},
		{"relay binary not executable", []string{"firstframe", "--relay-bin", plain}, "not an executable file"},
		{"size without x", []string{"fanout", "--relay-bin", exe, "--size", "640"}, `--size "640": want WIDTHxHEIGHT`},
		{"odd size", []string{"fanout", "--relay-bin", exe, "--size", "641x360"}, "even numbers"},
		{"no frames", []string{"fanout", "--relay-bin", exe, "--fps", "0"}, "--fps 0: want 1 to 60"},
		{"bitrate too low", []string{"fanout", "--relay-bin", exe, "--kbps", "10"}, "--kbps 10: want 50 to 20000"},
		{"GOP under a frame", []string{"fanout", "--relay-bin", exe, "--gop", "10ms"}, "--gop 10ms: want one frame"},
		{"GOP over a minute", []string{"firstframe", "--relay-bin", exe, "--gop", "2m"}, "--gop 2m0s"},
		{"no runs", []string{"fanout", "--relay-bin", exe, "--repeat", "0"}, "--repeat 0: want 1 to 20"},
		{"no joins", []string{"firstframe", "--relay-bin", exe, "--joins", "0"}, "--joins 0: want 1 to 10000"},
		{"join timeout within a GOP without cache", []string{"firstframe", "--relay-bin", exe, "--no-cache", "--gop", "4s", "--join-timeout", "3s"}, "may wait a whole GOP"},
		{"no cameras", []string{"fanout", "--relay-bin", exe, "--cameras", "0"}, "--cameras 0: want 1 to 1000"},
		{"too many viewers", []string{"fanout", "--relay-bin", exe, "--viewers", "20000"}, "--viewers 20000"},
		{"too many streams", []string{"fanout", "--relay-bin", exe, "--cameras", "100", "--viewers", "101"}, "10100 viewer streams: at most 10000"},
		{"no duration", []string{"fanout", "--relay-bin", exe, "--duration", "0s"}, "--duration 0s: want 1s to 1h"},
		{"negative warm-up", []string{"fanout", "--relay-bin", exe, "--warmup", "-1s"}, "--warmup -1s"},
		{"no joins at once", []string{"fanout", "--relay-bin", exe, "--join-concurrency", "0"}, "--join-concurrency 0"},
		{"no time to join", []string{"fanout", "--relay-bin", exe, "--join-within", "1s"}, "--join-within 1s: want 5s to 30m"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), c.args, &stdout, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("stderr %q does not say %q", stderr.String(), c.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"firstframe", "--help"}, {"fanout", "-h"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, stderr.String())
		}
		if !strings.Contains(stdout.String()+stderr.String(), "Usage: bench") {
			t.Errorf("%v: no usage", args)
		}
	}
}

// buildRelay builds cmd/relay into a temporary folder.
func buildRelay(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "relay")
	cmd := exec.Command(goTool, "build", "-o", bin, "../relay")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the relay: %v: %s", err, out)
	}
	return bin
}

// TestAgainstTheRelay runs both measurements, briefly, against the real
// relay binary. It checks that they measure, not what they measure: the
// machine running the tests may be busy with other work, which the numbers
// show and a test must not fail for.
func TestAgainstTheRelay(t *testing.T) {
	bin := buildRelay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*eventually.Ceiling) // a hang's guard
	defer cancel()

	t.Run("firstframe", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		args := []string{"firstframe", "--relay-bin", bin, "--joins", "5", "--gop", "1s", "--join-timeout", eventually.Ceiling.String(), "--json"}
		if code := run(ctx, args, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		var out struct {
			Machine machine         `json:"machine"`
			Runs    []firstFrameRun `json:"runs"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out.Runs) != 1 {
			t.Fatalf("output %s: %v", stdout.String(), err)
		}
		r := out.Runs[0]
		if r.Joins != 5 || r.Failed != 0 || r.NotKeyframe != 0 || r.MinMS <= 0 || r.P50MS < r.MinMS || r.MaxMS < r.P99MS || r.RelayMeanMS <= 0 {
			t.Fatalf("run %+v", r)
		}
		// The relay's own count starts after the POST arrives and ends
		// before the keyframe crosses to the viewer.
		if r.RelayMeanMS > r.MaxMS {
			t.Fatalf("the relay's mean %.1f ms exceeds the viewers' longest wait %.1f ms", r.RelayMeanMS, r.MaxMS)
		}
		if out.Machine.CPUs != runtime.NumCPU() || out.Machine.Go != runtime.Version() {
			t.Fatalf("machine %+v", out.Machine)
		}
	})

	t.Run("fanout", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		args := []string{"fanout", "--relay-bin", bin, "--cameras", "2", "--viewers", "3", "--gop", "1s",
			"--duration", "2s", "--warmup", "500ms", "--json"}
		if code := run(ctx, args, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		var out struct{ Runs []fanoutRun }
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out.Runs) != 1 {
			t.Fatalf("output %s: %v", stdout.String(), err)
		}
		r := out.Runs[0]
		if r.Streams != 6 || r.Joined != 6 || r.FirstError != "" {
			t.Fatalf("joined %d of %d: %s", r.Joined, r.Streams, r.FirstError)
		}
		// Something was sent and delivered, and the shares are shares (the
		// cameras' pace counts whole frames in a window, so it may pass 1);
		// how much, and how promptly, depends on the machine's load. The
		// clip's rate (≈300 kbit/s) and the relay's memory do not.
		if r.Delivered <= 0 || r.Delivered > 1 || r.PacketLoss < 0 || r.PacketLoss >= 1 || r.Paced <= 0 ||
			r.RelayCPU <= 0 || r.RelayRSSMB < 5 || r.RelayOutMbs <= 0 || r.RelayInMbs <= 0 || r.CameraGapMS <= 0 ||
			r.P50MS <= 0 || r.P99MS < r.P50MS || r.ClipKbps < 200 {
			t.Fatalf("run %+v", r)
		}
	})
}
