package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchSite is the site the bench declares for its cameras.
const benchSite = "bench"

// relayProc is a relay binary the bench runs as its own process, so that
// its CPU and memory are its own and not the clients'.
type relayProc struct {
	cmd    *exec.Cmd
	dir    string
	stderr *os.File
	log    string
	exited chan struct{}
	err    error // the process's exit, once exited is closed

	url          string
	loginToken   string
	publishToken string
	client       *http.Client
}

// relaySetup is what the relay is started with.
type relaySetup struct {
	bin     string
	log     string // where the relay's log goes; its data directory when empty
	cameras int
	noCache bool // max_gop 1: a joining viewer waits for the next keyframe
}

// startRelay starts the relay with a site of cfg.cameras WHIP cameras
// (bench/cam001…), loopback-only ICE, and the demo's duty user to watch
// them with. It returns once the relay answers and the user is signed in.
func startRelay(ctx context.Context, cfg relaySetup) (*relayProc, error) {
	dir, err := os.MkdirTemp("", "qianliyan-bench-")
	if err != nil {
		return nil, fmt.Errorf("making the relay's data directory: %w", err)
	}
	p := &relayProc{dir: dir, exited: make(chan struct{}), client: &http.Client{Timeout: 30 * time.Second}}
	ok := false
	defer func() {
		if !ok {
			p.stop()
		}
	}()
	raw := make([]byte, 24)
	_, _ = rand.Read(raw) // crypto/rand does not fail on Linux
	p.publishToken = hex.EncodeToString(raw)
	configFile := filepath.Join(dir, "relay.yaml")
	if err := os.WriteFile(configFile, relayConfig(cfg, p.publishToken), 0o600); err != nil {
		return nil, fmt.Errorf("writing the relay's configuration: %w", err)
	}
	p.log = cfg.log
	if p.log == "" {
		p.log = filepath.Join(dir, "relay.log")
	}
	if p.stderr, err = os.Create(p.log); err != nil {
		return nil, fmt.Errorf("creating the relay's log: %w", err)
	}
	// A kept log says what each session did; otherwise only trouble.
	level := "warn"
	if cfg.log != "" {
		level = "info"
	}
	p.cmd = exec.Command(cfg.bin, "--demo", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"),
		"--config", configFile, "--log-level", level)
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()

	creds, err := p.waitCredentials(ctx, filepath.Join(dir, "data", "demo-credentials.env"))
	if err != nil {
		return nil, err
	}
	p.url = creds["QLY_RELAY"]
	if p.loginToken, err = p.login(ctx, creds["QLY_USER"], creds["QLY_PASSWORD"]); err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

func cameraID(i int) string { return fmt.Sprintf("cam%03d", i+1) }

func relayConfig(cfg relaySetup, publishToken string) []byte {
	sum := sha256.Sum256([]byte(publishToken))
	var b strings.Builder
	b.WriteString("webrtc:\n  loopback_only: true\n")
	// Every viewer is the one signed-in user, watching longer than a
	// token lives without renewing it (the relay's per-user limits and
	// lapsed sign-ins would end a run).
	b.WriteString("auth:\n  token_ttl: 2h\nlimits:\n  whep_sessions_per_user: 100000\n")
	if cfg.noCache {
		b.WriteString("hub:\n  max_gop: 1\n")
	}
	fmt.Fprintf(&b, "sites:\n  - id: %s\n    district: {zh-CN: 压测区, en: Bench district}\n    name: {zh-CN: 压测点, en: Bench site}\n"+
		"    time_zone: Asia/Shanghai\n    publish_token_sha256: [%s]\n    cameras:\n", benchSite, hex.EncodeToString(sum[:]))
	for i := range cfg.cameras {
		fmt.Fprintf(&b, "      - {id: %s, zone: bench, name: {zh-CN: 摄像头%d, en: Camera %d}}\n", cameraID(i), i+1, i+1)
	}
	return []byte(b.String())
}

// waitCredentials waits for the relay to write its demo credentials and
// to answer /healthz.
func (p *relayProc) waitCredentials(ctx context.Context, path string) (map[string]string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if creds, err := readEnvFile(path); err == nil && creds["QLY_RELAY"] != "" {
			if resp, err := p.client.Get(creds["QLY_RELAY"] + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return creds, nil
				}
			}
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("the relay exited at start (%v): %s", p.err, p.logTail())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the relay did not answer within 30 s: %s", p.logTail())
		}
	}
}

func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			out[k] = v
		}
	}
	return out, sc.Err()
}

func (p *relayProc) login(ctx context.Context, user, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"user": user, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/api/v1/login", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("building sign-in: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("signing in to the relay: %w", err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Token == "" {
		return "", fmt.Errorf("signing in to the relay: status %d, %v", resp.StatusCode, err)
	}
	return out.Token, nil
}

func (p *relayProc) whip(camera int) string {
	return fmt.Sprintf("%s/whip/%s/%s?stream=main", p.url, benchSite, cameraID(camera))
}

func (p *relayProc) whep(camera int) string {
	return fmt.Sprintf("%s/whep/%s/%s?stream=main", p.url, benchSite, cameraID(camera))
}

func (p *relayProc) pid() int { return p.cmd.Process.Pid }

// metric returns a metric of the relay's /metrics summed over its labels
// (for a histogram, name_sum or name_count).
func (p *relayProc) metric(ctx context.Context, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/metrics", nil)
	if err != nil {
		return 0, fmt.Errorf("building metrics request: %w", err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("reading the relay's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("reading the relay's metrics: status %d", resp.StatusCode)
	}
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		sum += v
	}
	return sum, sc.Err()
}

// stop ends the relay (SIGTERM, then SIGKILL after 15 s) and removes its
// data directory.
func (p *relayProc) stop() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	if p.stderr != nil {
		p.stderr.Close()
	}
	os.RemoveAll(p.dir)
}

func (p *relayProc) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	if s := strings.TrimSpace(string(b)); s != "" {
		return s
	}
	return "(no log)"
}

// procUsage is a process's CPU time and memory from /proc.
type procUsage struct {
	cpu      time.Duration // user + system
	rss, hwm int64         // bytes: resident now, and at most so far
}

// clockTick is Linux's USER_HZ, the unit of /proc/PID/stat's times.
const clockTick = time.Second / 100

func readUsage(pid int) (procUsage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procUsage{}, fmt.Errorf("reading process %d's CPU time: %w", pid, err)
	}
	// The command name may hold spaces; the fields after it do not.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return procUsage{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return procUsage{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	// utime and stime are fields 14 and 15; f starts at field 3.
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return procUsage{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	u := procUsage{cpu: time.Duration(utime+stime) * clockTick}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procUsage{}, fmt.Errorf("reading process %d's memory: %w", pid, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &u.rss
		case "VmHWM":
			dst = &u.hwm
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return procUsage{}, fmt.Errorf("/proc/%d/status %s: %w", pid, k, err)
		}
		*dst = kb << 10
	}
	return u, nil
}

// loadAverage returns /proc/loadavg's three figures, for the record.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
