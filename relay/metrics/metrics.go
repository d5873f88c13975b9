// Package metrics exposes the relay to Prometheus: streams by state,
// viewers, packets and bytes in and out, drops, reconnects, keyframe
// requests, sign-ins, and how long a new viewer waits for its first
// keyframe. Stream figures are read from the hub at each scrape; events
// are counted as they happen by the packages that see them.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/qianliyan/qianliyan/relay/hub"
)

// Streams is the hub as metrics read it.
type Streams interface {
	States() []hub.State
}

// Viewers counts the open WHEP sessions.
type Viewers interface {
	Count() int
}

const namespace = "qianliyan_relay"

// Metrics holds the relay's metrics in their own registry, so that several
// relays in one process (tests, benchmarks) do not collide.
type Metrics struct {
	reg *prometheus.Registry

	firstKeyframe        prometheus.Histogram
	packetsOut, bytesOut prometheus.Counter
	packetsIn, bytesIn   *prometheus.CounterVec
	reconnects           *prometheus.CounterVec
	logins               *prometheus.CounterVec
}

// New returns the relay's metrics, reading streams and viewers at each scrape.
func New(streams Streams, viewers Viewers) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		firstKeyframe: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "first_keyframe_seconds",
			Help:    "Time from a WHEP POST to the first keyframe written to the viewer's track.",
			Buckets: []float64{.01, .025, .05, .075, .1, .15, .2, .3, .5, 1, 2, 5},
		}),
		packetsOut: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "packets_out_total", Help: "RTP packets sent to WHEP viewers.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "bytes_out_total", Help: "RTP bytes (headers included) sent to WHEP viewers.",
		}),
		packetsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "packets_in_total", Help: "RTP video packets received, by source kind (whip, rtsp).",
		}, []string{"source"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "bytes_in_total", Help: "RTP video bytes (headers included) received, by source kind (whip, rtsp).",
		}, []string{"source"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "source_reconnects_total", Help: "Pulled sources that ended or failed and are retried, by source kind.",
		}, []string{"source"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "logins_total", Help: "Sign-in attempts by result (ok, refused, limited).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.firstKeyframe, m.packetsOut, m.bytesOut, m.packetsIn, m.bytesIn, m.reconnects, m.logins,
		&hubCollector{streams: streams, viewers: viewers},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Gatherer gives the metrics to code in the same process (benchmarks).
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// FirstKeyframe records a viewer's wait for its first keyframe.
func (m *Metrics) FirstKeyframe(d time.Duration) { m.firstKeyframe.Observe(d.Seconds()) }

// Sent counts RTP sent to viewers.
func (m *Metrics) Sent(packets, bytes int) {
	m.packetsOut.Add(float64(packets))
	m.bytesOut.Add(float64(bytes))
}

// In returns the counter of packets received from one kind of source.
func (m *Metrics) In(source string) *In {
	return &In{packets: m.packetsIn.WithLabelValues(source), bytes: m.bytesIn.WithLabelValues(source)}
}

// Reconnect counts a pulled source's session that ended and is retried.
func (m *Metrics) Reconnect(source string) { m.reconnects.WithLabelValues(source).Inc() }

// Login results.
const (
	LoginOK      = "ok"
	LoginRefused = "refused"
	LoginLimited = "limited"
)

// Login counts a sign-in attempt.
func (m *Metrics) Login(result string) { m.logins.WithLabelValues(result).Inc() }

// In counts the packets of one kind of source.
type In struct{ packets, bytes prometheus.Counter }

// Received counts one packet.
func (c *In) Received(bytes int) {
	c.packets.Inc()
	c.bytes.Add(float64(bytes))
}

// hubCollector reads the hub's streams at each scrape.
type hubCollector struct {
	streams Streams
	viewers Viewers
}

var (
	streamLabels    = []string{"site", "camera", "stream"}
	streamsDesc     = prometheus.NewDesc(namespace+"_streams", "Streams the relay has seen, by state (online, stalled, offline).", []string{"state"}, nil)
	viewersDesc     = prometheus.NewDesc(namespace+"_viewers", "Open WHEP sessions.", nil, nil)
	keyRequestsDesc = prometheus.NewDesc(namespace+"_keyframe_requests_total", "Viewers' keyframe requests (PLI, FIR, joins with nothing cached), by whether they were passed on to the source or held back by the rate limit.", []string{"result"}, nil)
	framesInDesc    = prometheus.NewDesc(namespace+"_stream_frames_in_total", "Access units received per stream.", streamLabels, nil)
	unitBytesDesc   = prometheus.NewDesc(namespace+"_stream_bytes_in_total", "Access unit bytes (H.264 NAL units) received per stream.", streamLabels, nil)
	dropsDesc       = prometheus.NewDesc(namespace+"_stream_dropped_units_total", "Access units not delivered to viewers that fell behind, per stream.", streamLabels, nil)
	readersDesc     = prometheus.NewDesc(namespace+"_stream_viewers", "Viewers following each stream.", streamLabels, nil)
	fpsDesc         = prometheus.NewDesc(namespace+"_stream_fps", "Frames per second each stream receives.", streamLabels, nil)
)

func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{streamsDesc, viewersDesc, keyRequestsDesc, framesInDesc, unitBytesDesc, dropsDesc, readersDesc, fpsDesc} {
		ch <- d
	}
}

func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	byState := map[hub.Status]int{hub.StatusOnline: 0, hub.StatusStalled: 0, hub.StatusOffline: 0}
	var forwarded, limited uint64
	for _, st := range c.streams.States() {
		byState[st.Status]++
		forwarded += st.KeyframeRequests
		limited += st.KeyframeRequestsLimited
		labels := []string{st.Key.Site, st.Key.Camera, st.Key.Stream}
		ch <- prometheus.MustNewConstMetric(framesInDesc, prometheus.CounterValue, float64(st.Frames), labels...)
		ch <- prometheus.MustNewConstMetric(unitBytesDesc, prometheus.CounterValue, float64(st.Bytes), labels...)
		ch <- prometheus.MustNewConstMetric(dropsDesc, prometheus.CounterValue, float64(st.Drops), labels...)
		ch <- prometheus.MustNewConstMetric(readersDesc, prometheus.GaugeValue, float64(st.Readers), labels...)
		ch <- prometheus.MustNewConstMetric(fpsDesc, prometheus.GaugeValue, st.FPS, labels...)
	}
	for state, n := range byState {
		ch <- prometheus.MustNewConstMetric(streamsDesc, prometheus.GaugeValue, float64(n), string(state))
	}
	ch <- prometheus.MustNewConstMetric(viewersDesc, prometheus.GaugeValue, float64(c.viewers.Count()))
	ch <- prometheus.MustNewConstMetric(keyRequestsDesc, prometheus.CounterValue, float64(forwarded), "forwarded")
	ch <- prometheus.MustNewConstMetric(keyRequestsDesc, prometheus.CounterValue, float64(limited), "limited")
}
