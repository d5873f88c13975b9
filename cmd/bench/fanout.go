package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
)

// fanoutRun is one run of fanout.
type fanoutRun struct {
	Load       string  `json:"load_average"`
	Streams    int     `json:"viewer_streams"`
	Joined     int     `json:"joined"`
	FirstError string  `json:"first_error,omitempty"`
	JoinS      float64 `json:"join_s"` // from the first POST to every joined viewer's first unit
	// RelayCPU and BenchCPU are percent of one core over the measurement.
	RelayCPU    float64 `json:"relay_cpu_pct"`
	BenchCPU    float64 `json:"bench_cpu_pct"`
	RelayRSSMB  float64 `json:"relay_rss_mb"`
	RelayPeakMB float64 `json:"relay_peak_rss_mb"`
	RelayInMbs  float64 `json:"relay_in_mbit_s"`
	RelayOutMbs float64 `json:"relay_out_mbit_s"`
	// Paced is the share of the frames due that the bench's cameras sent:
	// below 1, the bench itself (the clients' side) ran short of CPU.
	Paced float64 `json:"cameras_paced"`
	// CameraGapMS is the longest pause between two units of any camera
	// over the whole run, joins included: the bench's own hiccups.
	CameraGapMS float64 `json:"camera_longest_gap_ms"`
	// Delivered is the share of the units sent during the measurement that
	// reached their viewers (by the end of it plus a 2 s grace).
	Delivered float64 `json:"delivered"`
	// PacketLoss is the share of RTP packets missing at the viewers,
	// from the gaps in their sequence numbers.
	PacketLoss float64 `json:"packet_loss"`
	P50MS      float64 `json:"latency_p50_ms"`
	P99MS      float64 `json:"latency_p99_ms"`
	MaxMS      float64 `json:"latency_max_ms"`
	// RelayDrops are units the relay's hub did not queue for viewers that
	// fell ReaderQueue units behind.
	RelayDrops float64 `json:"relay_drops"`
	ClipKbps   float64 `json:"clip_kbps"`
}

// fanViewer is one viewer of the fan-out.
type fanViewer struct {
	camera int
	c      *webrtcclient.Viewer
	// got holds every stamped unit received; only the reading goroutine
	// writes it, and it is read once that has returned.
	got   []arrival
	first chan struct{} // closed at the first unit
}

type arrival struct{ sent, at time.Duration }

// graceAfter is how long after the measurement units sent during it may
// still arrive and count.
const graceAfter = 2 * time.Second

func fanout(ctx context.Context, cfg fanoutConfig, progress io.Writer) (fanoutRun, error) {
	out := fanoutRun{Load: loadAverage(), Streams: cfg.cameras * cfg.viewers}
	units, kbps, err := clip(cfg.media)
	if err != nil {
		return out, err
	}
	out.ClipKbps = kbps
	r, err := startRelay(ctx, relaySetup{bin: cfg.relayBin, log: cfg.relayLog, cameras: cfg.cameras})
	if err != nil {
		return out, err
	}
	defer r.stop()

	// Everything started below ends with runCtx, before the relay stops.
	var wg sync.WaitGroup
	defer wg.Wait()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	errs := make(chan error, cfg.cameras)

	// The cameras, their keyframes spread over the GOP as unsynchronised
	// cameras' are.
	pubAPI, err := webrtcclient.NewAPI(r.url)
	if err != nil {
		return out, err
	}
	cams := make([]*camera, cfg.cameras)
	for i := range cams {
		pub, err := webrtcclient.Publish(ctx, r.whip(i), webrtcclient.Config{Token: r.publishToken, API: pubAPI})
		if err != nil {
			return out, fmt.Errorf("publishing camera %d: %w", i+1, err)
		}
		defer pub.PC.Close()
		cams[i] = &camera{idx: i, pub: pub}
		delay := cfg.media.gop * time.Duration(i) / time.Duration(cfg.cameras)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cams[i].run(runCtx, units, cfg.media.fps, delay); err != nil {
				errs <- err
			}
		}()
	}
	if err := sleep(ctx, cfg.media.gop+300*time.Millisecond); err != nil {
		return out, err
	}

	fmt.Fprintf(progress, "bench: %d cameras publishing; joining %d viewers\n", cfg.cameras, out.Streams)
	viewers, err := joinViewers(runCtx, r, cfg, &wg, &out, progress)
	defer closeViewers(viewers)
	if err != nil {
		return out, err
	}
	fmt.Fprintf(progress, "bench: %d viewers joined in %.1f s; measuring\n", out.Joined, out.JoinS)
	if err := sleep(ctx, cfg.warmup); err != nil {
		return out, err
	}

	// The measurement.
	s0, err := takeSample(ctx, r, viewers)
	if err != nil {
		return out, err
	}
	stopProfiles, err := startProfiles(cfg, r.pid())
	if err != nil {
		return out, err
	}
	if err := sleep(ctx, cfg.duration); err != nil {
		stopProfiles()
		return out, err
	}
	s1, err := takeSample(ctx, r, viewers)
	if err := errors.Join(stopProfiles(), err); err != nil {
		return out, err
	}
	ws, we := s0.at, s1.at
	if err := sleep(ctx, graceAfter); err != nil {
		return out, err
	}
	stopRun()
	wg.Wait()
	select {
	case err := <-errs:
		return out, err
	default:
	}

	window := (we - ws).Seconds()
	out.RelayCPU = (s1.relay.cpu - s0.relay.cpu).Seconds() / window * 100
	out.BenchCPU = (s1.self.cpu - s0.self.cpu).Seconds() / window * 100
	out.RelayRSSMB, out.RelayPeakMB = float64(s1.relay.rss)/(1<<20), float64(s1.relay.hwm)/(1<<20)
	out.RelayOutMbs = (s1.bytesOut - s0.bytesOut) * 8 / 1e6 / window
	out.RelayInMbs = (s1.bytesIn - s0.bytesIn) * 8 / 1e6 / window
	out.RelayDrops = s1.drops - s0.drops

	sentIn := make([]int, len(cams))
	sentAll := 0
	for i, c := range cams {
		for _, at := range c.sent {
			if at >= ws && at < we {
				sentIn[i]++
				sentAll++
			}
		}
	}
	out.Paced = float64(sentAll) / (window * float64(cfg.media.fps) * float64(cfg.cameras))
	for _, c := range cams {
		for i := 1; i < len(c.sent); i++ {
			out.CameraGapMS = max(out.CameraGapMS, ms(c.sent[i]-c.sent[i-1]))
		}
	}
	var (
		want, got      int
		lost, expected int64
		latencies      []time.Duration
	)
	for i, v := range viewers {
		want += sentIn[v.camera]
		for _, a := range v.got {
			if a.sent >= ws && a.sent < we {
				got++
				latencies = append(latencies, a.at-a.sent)
			}
		}
		lost += int64(s1.viewers[i].Lost) - int64(s0.viewers[i].Lost)
		expected += int64(s1.viewers[i].Expected) - int64(s0.viewers[i].Expected)
	}
	if want > 0 {
		out.Delivered = float64(got) / float64(want)
	}
	if expected > 0 {
		out.PacketLoss = float64(lost) / float64(expected)
	}
	q := quantiles(latencies)
	out.P50MS, out.P99MS, out.MaxMS = ms(q.p50), ms(q.p99), ms(q.max)
	return out, nil
}

// joinViewers joins every camera's viewers, a few at a time, and waits for
// each joined one's first unit, all within cfg.joinWithin. Viewers that
// cannot join are counted, not fatal: how many join is part of the result.
func joinViewers(ctx context.Context, r *relayProc, cfg fanoutConfig, wg *sync.WaitGroup, out *fanoutRun, progress io.Writer) ([]*fanViewer, error) {
	api, err := webrtcclient.NewAPI(r.url)
	if err != nil {
		return nil, err
	}
	vcfg := webrtcclient.Config{Token: r.loginToken, API: api}
	start := time.Now()
	jctx, cancel := context.WithTimeout(ctx, cfg.joinWithin)
	defer cancel()
	var (
		mu      sync.Mutex
		joined  []*fanViewer
		failed  []error
		sem     = make(chan struct{}, cfg.joinConcurrency)
		joins   sync.WaitGroup
		started int
	)
posts:
	for i := range cfg.cameras * cfg.viewers {
		select {
		case sem <- struct{}{}:
		case <-jctx.Done():
			break posts
		}
		started++
		joins.Add(1)
		go func() {
			defer joins.Done()
			defer func() { <-sem }()
			v := &fanViewer{camera: i % cfg.cameras, first: make(chan struct{})}
			pctx, cancel := context.WithTimeout(jctx, 30*time.Second)
			defer cancel()
			c, err := webrtcclient.Play(pctx, r.whep(v.camera), vcfg)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if len(failed) == 0 {
					fmt.Fprintf(progress, "bench: a viewer could not join after %.1f s: %v\n", time.Since(start).Seconds(), err)
				}
				failed = append(failed, err)
				return
			}
			v.c = c
			joined = append(joined, v)
			if n := len(joined); n%50 == 0 {
				fmt.Fprintf(progress, "bench: %d viewers answered after %.1f s\n", n, time.Since(start).Seconds())
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				var once sync.Once
				_ = c.Read(ctx, func(au avc.AccessUnit) {
					at := since()
					once.Do(func() { close(v.first) })
					if _, _, sent, ok := readStamp(au); ok {
						v.got = append(v.got, arrival{sent: sent, at: at})
					}
				})
			}()
		}()
	}
	joins.Wait()
	var late int
	for _, v := range joined {
		select {
		case <-v.first:
		case <-jctx.Done():
			late++
		}
	}
	if ctx.Err() != nil {
		return joined, ctx.Err()
	}
	out.JoinS = time.Since(start).Seconds()
	out.Joined = len(joined) - late
	var problems []string
	if n := out.Streams - started; n > 0 {
		problems = append(problems, fmt.Sprintf("%d viewers not tried within --join-within %v", n, cfg.joinWithin))
	}
	if len(failed) > 0 {
		problems = append(problems, fmt.Sprintf("%d joins failed, the first: %v", len(failed), failed[0]))
	}
	if late > 0 {
		problems = append(problems, fmt.Sprintf("%d viewers answered but had no video within --join-within", late))
	}
	out.FirstError = strings.Join(problems, "; ")
	if out.Joined == 0 {
		return joined, fmt.Errorf("no viewer joined: %s", out.FirstError)
	}
	return joined, nil
}

// sample is what the measurement reads at either end of its window.
type sample struct {
	at                       time.Duration // since()
	relay, self              procUsage     // the relay's and the bench's process
	drops, bytesOut, bytesIn float64       // the relay's counters
	viewers                  []webrtcclient.Stats
}

func takeSample(ctx context.Context, r *relayProc, viewers []*fanViewer) (sample, error) {
	s := sample{at: since()}
	var errs [5]error
	s.relay, errs[0] = readUsage(r.pid())
	s.self, errs[1] = readUsage(os.Getpid())
	s.drops, errs[2] = r.metric(ctx, "qianliyan_relay_stream_dropped_units_total")
	s.bytesOut, errs[3] = r.metric(ctx, "qianliyan_relay_bytes_out_total")
	s.bytesIn, errs[4] = r.metric(ctx, "qianliyan_relay_bytes_in_total")
	s.viewers = viewerStats(viewers)
	return s, errors.Join(errs[:]...)
}

func viewerStats(viewers []*fanViewer) []webrtcclient.Stats {
	out := make([]webrtcclient.Stats, len(viewers))
	for i, v := range viewers {
		out[i] = v.c.Stats()
	}
	return out
}

// closeViewers drops every viewer's connection at once; the relay ends
// their sessions when it stops, sooner than hundreds of DELETEs would.
func closeViewers(viewers []*fanViewer) {
	var wg sync.WaitGroup
	for _, v := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = v.c.PC.Close()
		}()
	}
	wg.Wait()
}

var execLookPath = exec.LookPath

// startProfiles starts what --perf and --cpuprofile ask for; the returned
// function stops them.
func startProfiles(cfg fanoutConfig, relayPID int) (func() error, error) {
	var stops []func() error
	stopAll := func() error {
		var errs []error
		for _, s := range stops {
			errs = append(errs, s())
		}
		return errors.Join(errs...)
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("creating --cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("starting the CPU profile: %w", err)
		}
		stops = append(stops, func() error {
			pprof.StopCPUProfile()
			return f.Close()
		})
	}
	if cfg.perfFile != "" {
		cmd := exec.Command("perf", "record", "-F", "499", "-g", "-p", fmt.Sprint(relayPID), "-o", cfg.perfFile)
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Start(); err != nil {
			_ = stopAll()
			return nil, fmt.Errorf("starting perf: %w", err)
		}
		stops = append(stops, func() error {
			// perf writes its file when interrupted.
			_ = cmd.Process.Signal(syscall.SIGINT)
			if err := cmd.Wait(); err != nil {
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					return fmt.Errorf("perf: %w", err)
				}
			}
			return nil
		})
	}
	return stopAll, nil
}
