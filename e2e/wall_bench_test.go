package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// procStat reads a process's CPU time (user+system) and resident memory.
func procStat(b *testing.B, pid int) (cpu time.Duration, rssKB int) {
	b.Helper()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	status, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			rssKB, _ = strconv.Atoi(strings.Fields(line)[1])
		}
	}
	// The kernel counts in clock ticks, 100 a second on Linux.
	return time.Duration(utime+stime) * 10 * time.Millisecond, rssKB
}

// BenchmarkWall16 watches a 16-tile wall of sub streams for 30 s in headless
// Chromium, with the console backend (bin/qianliyan --serve) in a process of
// its own, and reports the backend's CPU and memory per tile and the frames
// the view decoded and dropped. Run it alone:
//
//	make build && go test -run '^$' -bench Wall16 -benchtime 1x ./e2e
func BenchmarkWall16(b *testing.B) {
	bin := requireBuilt(b, "bin/qianliyan")
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		c := startCity(b, ctx, 4, 4)
		app := exec.CommandContext(ctx, bin, "--relay", c.relay.URL(), "--user", c.user, "--data", b.TempDir(),
			"--serve", "127.0.0.1:0", "--log-level", "warn")
		app.Env = append(os.Environ(), "QLY_PASSWORD="+c.password)
		out, err := app.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := app.Start(); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			b.Fatalf("reading the page address: %v", err)
		}
		bctx := newBrowser(b, ctx)
		if _, err := chromedp.Run(bctx, chromedp.Navigate(strings.TrimSpace(line)+"&grid=16")); err != nil {
			b.Fatal(err)
		}
		time.Sleep(10 * time.Second) // every tile connects and settles
		type tiles = map[string]struct {
			Decoded float64 `json:"framesDecoded"`
			Dropped float64 `json:"framesDropped"`
		}
		const js = `JSON.parse(JSON.stringify((window.__qly && window.__qly.tiles) || {}))`
		before, err := chromedp.Run(bctx, chromedp.Evaluate[tiles](js))
		if err != nil {
			b.Fatal(err)
		}
		cpu0, _ := procStat(b, app.Process.Pid)
		start := time.Now()
		time.Sleep(30 * time.Second)
		cpu1, rss := procStat(b, app.Process.Pid)
		wall := time.Since(start)
		after, err := chromedp.Run(bctx, chromedp.Evaluate[tiles](js))
		if err != nil {
			b.Fatal(err)
		}
		var decoded, dropped float64
		playing := 0
		for id, t := range after {
			d := t.Decoded - before[id].Decoded
			decoded += d
			dropped += t.Dropped - before[id].Dropped
			if d > 0 {
				playing++
			}
		}
		if playing == 0 {
			b.Fatal("no tile decoded a frame")
		}
		b.ReportMetric(float64(playing), "tiles")
		b.ReportMetric(100*(cpu1-cpu0).Seconds()/wall.Seconds(), "backend-cpu-%")
		b.ReportMetric(float64(rss)/1024, "backend-RSS-MiB")
		b.ReportMetric(100*(cpu1-cpu0).Seconds()/wall.Seconds()/float64(playing), "backend-cpu-%/tile")
		b.ReportMetric(float64(rss)/1024/float64(playing), "backend-RSS-MiB/tile")
		b.ReportMetric(decoded/float64(playing)/wall.Seconds(), "decoded-fps/tile")
		b.ReportMetric(100*dropped/max(decoded+dropped, 1), "dropped-%")
		app.Process.Kill()
		app.Wait()
		cancel()
	}
}
