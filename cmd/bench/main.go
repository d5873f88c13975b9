// Command bench measures the relay, run as a process of its own, from WHIP
// publishers and WHEP viewers in this one: how long a new viewer waits for
// its first picture (bench firstframe) and what fan-out costs the relay
// (bench fanout). docs/PERFORMANCE.md has the numbers and the commands that
// made them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Usage: bench firstframe|fanout|seed|review|dashboard [flags]   (bench firstframe --help)

  firstframe  a new viewer's wait for its first keyframe, p50 and p99
  fanout      relay CPU, memory, loss and latency with cameras × viewers
  seed        write a relay with months of findings, runs and review marks
  review      time the review list's filters on a seeded relay, p50/p95/max
  dashboard   time the supervisors' statistics on a seeded relay, p50/p95/max
`

// run returns the exit status: 2 for a bad command line, 1 for a failure.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "firstframe":
		var cfg firstFrameConfig
		if cfg, err = parseFirstFrame(rest, stderr); err == nil {
			err = repeat(ctx, cfg.common, stdout, describeFirstFrame(cfg), func() (any, error) { return firstFrame(ctx, cfg) })
		}
	case "fanout":
		var cfg fanoutConfig
		if cfg, err = parseFanout(rest, stderr); err == nil {
			err = repeat(ctx, cfg.common, stdout, describeFanout(cfg), func() (any, error) { return fanout(ctx, cfg, stderr) })
		}
	case "seed":
		var cfg seedConfig
		if cfg, err = parseSeed(rest, stderr); err == nil {
			err = runSeed(ctx, cfg, stdout, stderr)
		}
	case "review":
		var cfg reviewConfig
		if cfg, err = parseReview(rest, stderr); err == nil {
			err = runReview(ctx, cfg, stdout)
		}
	case "dashboard":
		var cfg dashboardConfig
		if cfg, err = parseDashboard(rest, stderr); err == nil {
			err = runDashboard(ctx, cfg, stdout)
		}
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "bench: unknown command %q\n%s", cmd, usage)
		return 2
	}
	var bad usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &bad):
		if !bad.printed {
			fmt.Fprintf(stderr, "bench: %v\n", err)
		}
		return 2
	default:
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
}

func describeFirstFrame(cfg firstFrameConfig) string {
	cache := "GOP cache on"
	if cfg.noCache {
		cache = "no GOP cache (max_gop 1), keyframe requests ignored"
	}
	return fmt.Sprintf("firstframe: %d joins one after another; camera %v; %s", cfg.joins, cfg.media, cache)
}

func describeFanout(cfg fanoutConfig) string {
	return fmt.Sprintf("fanout: %d cameras × %d viewers = %d viewer streams; camera %v; %v measured after %v warm-up",
		cfg.cameras, cfg.viewers, cfg.cameras*cfg.viewers, cfg.media, cfg.duration, cfg.warmup)
}

// machine describes where the numbers were taken.
type machine struct {
	CPUs  int    `json:"cpus"`
	Model string `json:"cpu_model"`
	Go    string `json:"go"`
}

func thisMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Model: "?", Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// repeat runs one measurement cfg.repeat times and prints each run and,
// for several, the median and range of each figure.
func repeat(ctx context.Context, cfg common, stdout io.Writer, what string, once func() (any, error)) error {
	m := thisMachine()
	var runs []any
	if !cfg.json {
		fmt.Fprintf(stdout, "%s\nmachine: %d CPUs, %s, %s\n", what, m.CPUs, m.Model, m.Go)
	}
	for i := range cfg.repeat {
		r, err := once()
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		runs = append(runs, r)
		if !cfg.json {
			fmt.Fprintf(stdout, "run %d/%d  %s\n", i+1, cfg.repeat, runLine(r))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"what": what, "machine": m, "runs": runs})
	}
	if cfg.repeat > 1 {
		fmt.Fprintf(stdout, "median (range) of %d runs: %s\n", cfg.repeat, summary(runs))
	}
	return nil
}

func runLine(r any) string {
	switch r := r.(type) {
	case firstFrameRun:
		s := fmt.Sprintf("load %s  clip %.0f kbit/s  joins %d, failed %d  p50 %.1f ms  p99 %.1f ms  min %.1f ms  max %.1f ms  relay's mean %.1f ms  first unit not a keyframe %d  keyframe requests %d",
			r.Load, r.ClipKbps, r.Joins, r.Failed, r.P50MS, r.P99MS, r.MinMS, r.MaxMS, r.RelayMeanMS, r.NotKeyframe, r.KeyframeRequests)
		if r.FirstError != "" {
			s += "\n    first failure: " + r.FirstError
		}
		return s
	case fanoutRun:
		s := fmt.Sprintf("load %s  clip %.0f kbit/s  joined %d/%d in %.1f s  cameras paced %.0f%% (longest gap %.0f ms)  relay CPU %.0f%%  RSS %.0f MB (peak %.0f)  in %.1f out %.1f Mbit/s  bench CPU %.0f%%  delivered %.2f%%  packet loss %.3f%%  latency p50 %.1f ms p99 %.1f ms max %.0f ms  relay drops %.0f",
			r.Load, r.ClipKbps, r.Joined, r.Streams, r.JoinS, r.Paced*100, r.CameraGapMS, r.RelayCPU, r.RelayRSSMB, r.RelayPeakMB, r.RelayInMbs, r.RelayOutMbs, r.BenchCPU,
			r.Delivered*100, r.PacketLoss*100, r.P50MS, r.P99MS, r.MaxMS, r.RelayDrops)
		if r.FirstError != "" {
			s += "\n    " + r.FirstError
		}
		return s
	}
	return fmt.Sprint(r)
}

func summary(runs []any) string {
	n := len(runs)
	figure := func(get func(any) float64) spread {
		xs := make([]float64, n)
		for i, r := range runs {
			xs[i] = get(r)
		}
		return spreadOf(xs)
	}
	switch runs[0].(type) {
	case firstFrameRun:
		ff := func(f func(firstFrameRun) float64) spread {
			return figure(func(r any) float64 { return f(r.(firstFrameRun)) })
		}
		return fmt.Sprintf("p50 %s  p99 %s  relay's mean %s",
			ff(func(r firstFrameRun) float64 { return r.P50MS }).format("%.1f", " ms", n),
			ff(func(r firstFrameRun) float64 { return r.P99MS }).format("%.1f", " ms", n),
			ff(func(r firstFrameRun) float64 { return r.RelayMeanMS }).format("%.1f", " ms", n))
	case fanoutRun:
		fo := func(f func(fanoutRun) float64) spread { return figure(func(r any) float64 { return f(r.(fanoutRun)) }) }
		return fmt.Sprintf("relay CPU %s  RSS %s  bench CPU %s  delivered %s  packet loss %s  latency p50 %s p99 %s",
			fo(func(r fanoutRun) float64 { return r.RelayCPU }).format("%.0f", "%", n),
			fo(func(r fanoutRun) float64 { return r.RelayRSSMB }).format("%.0f", " MB", n),
			fo(func(r fanoutRun) float64 { return r.BenchCPU }).format("%.0f", "%", n),
			fo(func(r fanoutRun) float64 { return r.Delivered * 100 }).format("%.2f", "%", n),
			fo(func(r fanoutRun) float64 { return r.PacketLoss * 100 }).format("%.3f", "%", n),
			fo(func(r fanoutRun) float64 { return r.P50MS }).format("%.1f", " ms", n),
			fo(func(r fanoutRun) float64 { return r.P99MS }).format("%.1f", " ms", n))
	}
	return ""
}
