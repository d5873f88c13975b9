// Package rtsppull pulls IP cameras and NVRs over RTSP into the relay's hub:
// H.264 over TCP-interleaved or UDP transport, Basic or Digest credentials in
// the URL, SPS/PPS from the SDP as well as in band, and reconnection when a
// camera drops or reboots: briskly for a minute after it last showed a
// picture, so that a reboot costs the officer the reboot and little more,
// then with a capped exponential backoff.
package rtsppull

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/relay/hub"
)

// Publisher is the part of the hub a puller feeds.
type Publisher interface {
	Publish(key hub.Key) (*hub.Source, error)
}

// Source is one RTSP stream to pull.
type Source struct {
	Key hub.Key
	// URL is rtsp://[user:password@]host[:port]/path. The credentials are
	// used for Basic or Digest authentication and never logged.
	URL string
	// Transport is "tcp", "udp", or "" for UDP falling back to TCP.
	Transport string
}

// Options tune a puller. Zero fields take the defaults.
type Options struct {
	MinBackoff time.Duration // first wait after a failure; default 500 ms
	MaxBackoff time.Duration // the cap; default 30 s
	// BriskRetry is the wait between attempts at a camera that showed a
	// picture less than BriskFor ago (a camera rebooting, a network
	// blip); defaults 1 s and 1 min. Every wait varies by a fifth either
	// way, so the cameras of a site that lost power do not call at once.
	BriskRetry, BriskFor time.Duration
	// Now and After are the clock and the wait between attempts
	// (time.Now and time.After when nil); tests drive their own.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// ReadTimeout ends a session that receives nothing; default 10 s.
	ReadTimeout time.Duration
	// OnReconnect, when set, is told of every failed or ended session.
	OnReconnect func(key hub.Key, err error)
	// OnPacket, when set, is told the size of every RTP packet received.
	OnPacket func(bytes int)
	Log      zerolog.Logger
}

// ErrUnsupportedCodec is returned when a camera offers no H.264 video.
var ErrUnsupportedCodec = errors.New("unsupported codec")

// Redact returns an RTSP URL with its password hidden, for logs and errors.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Validate checks a source before it is run, so a bad config fails at start.
func (s Source) Validate() error {
	// The parser's own errors quote the URL, password and all: say it here.
	u, err := url.Parse(s.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("camera %s: the URL is not of the form rtsp://[user:password@]host[:port]/path", s.Key)
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return fmt.Errorf("camera %s: URL %s: scheme must be rtsp or rtsps", s.Key, Redact(s.URL))
	}
	switch s.Transport {
	case "", "tcp", "udp":
	default:
		return fmt.Errorf("camera %s: transport %q: want tcp, udp or empty", s.Key, s.Transport)
	}
	return nil
}

// Run pulls src into pub until ctx is cancelled. Failures are logged and
// retried with backoff; Run returns only ctx's error, or a validation error.
func Run(ctx context.Context, pub Publisher, src Source, opts Options) error {
	if err := src.Validate(); err != nil {
		return err
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.BriskRetry <= 0 {
		opts.BriskRetry = time.Second
	}
	if opts.BriskFor <= 0 {
		opts.BriskFor = time.Minute
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	log := opts.Log.With().Str("component", "rtsppull").Str("camera", src.Key.String()).Str("url", Redact(src.URL)).Logger()
	policy := newRetry(opts)
	for {
		delivered, err := pullOnce(ctx, pub, src, opts, log)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := policy.next(opts.Now(), delivered)
		if opts.OnReconnect != nil {
			opts.OnReconnect(src.Key, err)
		}
		log.Warn().Err(err).Dur("retry_in", wait).Msg("RTSP session ended")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-opts.After(wait):
		}
	}
}

// retry says how long to wait before the next attempt at a camera.
type retry struct {
	min, max, brisk, briskFor time.Duration
	healthy                   time.Time     // when a session that showed a picture last ended
	backoff                   time.Duration // the next wait once the camera is no longer brisk
}

func newRetry(opts Options) *retry {
	return &retry{min: opts.MinBackoff, max: opts.MaxBackoff, brisk: opts.BriskRetry, briskFor: opts.BriskFor, backoff: opts.MinBackoff}
}

// next returns the wait after a session that ended at now; delivered says
// whether it showed a picture. A camera that did is tried again after
// MinBackoff, then every BriskRetry for BriskFor, then with the wait
// doubling from BriskRetry up to MaxBackoff; one that never did, with the
// wait doubling from MinBackoff.
func (r *retry) next(now time.Time, delivered bool) time.Duration {
	if delivered {
		r.healthy = now
		r.backoff = max(r.brisk, r.min)
		return jitter(r.min)
	}
	if !r.healthy.IsZero() && now.Sub(r.healthy) < r.briskFor {
		return jitter(r.brisk)
	}
	d := r.backoff
	r.backoff = min(r.backoff*2, r.max)
	return jitter(d)
}

// jitter varies d by up to a fifth either way.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}

// pullOnce runs one RTSP session; delivered says whether it got a picture.
func pullOnce(ctx context.Context, pub Publisher, src Source, opts Options, log zerolog.Logger) (delivered bool, err error) {
	timeout := opts.ReadTimeout
	u, err := base.ParseURL(src.URL)
	if err != nil {
		return false, fmt.Errorf("parsing URL: %w", err)
	}
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, ReadTimeout: timeout, WriteTimeout: timeout}
	switch src.Transport {
	case "tcp":
		c.Protocol = ptr(gortsplib.ProtocolTCP)
	case "udp":
		c.Protocol = ptr(gortsplib.ProtocolUDP)
	}
	if err := c.Start(); err != nil {
		return false, fmt.Errorf("connecting: %w", err)
	}
	// Close ends a blocking Describe, Setup or Wait when ctx is cancelled.
	stop := context.AfterFunc(ctx, c.Close)
	defer stop()
	defer c.Close()

	desc, _, err := c.Describe(u)
	if err != nil {
		return false, fmt.Errorf("DESCRIBE: %w", redactErr(err, src.URL))
	}
	var forma *format.H264
	medi := desc.FindFormat(&forma)
	if medi == nil {
		var h265 *format.H265
		if desc.FindFormat(&h265) != nil {
			return false, fmt.Errorf("%w: the camera sends H.265; set it to H.264", ErrUnsupportedCodec)
		}
		return false, fmt.Errorf("%w: the camera offers no H.264 video", ErrUnsupportedCodec)
	}
	dec, err := forma.CreateDecoder()
	if err != nil {
		return false, fmt.Errorf("creating H.264 depacketizer: %w", err)
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return false, fmt.Errorf("SETUP: %w", redactErr(err, src.URL))
	}

	f := &feeder{pub: pub, key: src.Key, sps: forma.SPS, pps: forma.PPS, fail: c.Close}
	defer f.close()
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		if opts.OnPacket != nil {
			opts.OnPacket(pkt.MarshalSize())
		}
		pts, ok := c.PacketPTS(medi, pkt)
		if !ok {
			return
		}
		nalus, err := dec.Decode(pkt)
		if err != nil {
			return // fragment pending, or loss inside one: the next unit resumes
		}
		f.write(avc.NewAccessUnit(nalus, time.Duration(pts)*time.Second/90000))
	})
	if _, err := c.Play(nil); err != nil {
		return false, fmt.Errorf("PLAY: %w", redactErr(err, src.URL))
	}
	log.Info().Str("transport", transportName(c)).Msg("RTSP session playing")
	err = c.Wait()
	if ferr := f.err(); ferr != nil {
		err = ferr
	}
	return f.delivered(), fmt.Errorf("session: %w", redactErr(err, src.URL))
}

// feeder turns the camera's access units into a hub source. It publishes on
// the first keyframe, so a camera is online only once it can show a picture,
// and keeps the latest parameter sets to put in front of every keyframe.
type feeder struct {
	pub      Publisher
	key      hub.Key
	fail     func()
	mu       sync.Mutex
	src      *hub.Source
	sps, pps []byte
	failure  error
}

func (f *feeder) write(au avc.AccessUnit) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failure != nil {
		return
	}
	if sps, pps := au.ParamSets(); sps != nil || pps != nil {
		if sps != nil {
			f.sps = sps
		}
		if pps != nil {
			f.pps = pps
		}
	}
	if au.Keyframe {
		au = au.WithParamSets(f.sps, f.pps)
	}
	if f.src == nil {
		if !au.Keyframe {
			return
		}
		src, err := f.pub.Publish(f.key)
		if err != nil {
			f.failure = fmt.Errorf("publishing into the hub: %w", err)
			go f.fail()
			return
		}
		f.src = src
	}
	f.src.Write(au)
}

func (f *feeder) delivered() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.src != nil
}

func (f *feeder) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failure
}

func (f *feeder) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.src != nil {
		f.src.Close()
		f.src = nil
	}
}

func transportName(c *gortsplib.Client) string {
	if t := c.Transport(); t != nil && t.Session != nil {
		return t.Session.Protocol.String()
	}
	return "unknown"
}

// redactedError keeps a password out of error text that quotes the URL,
// while errors.Is and errors.As still see the cause.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redactErr(err error, raw string) error {
	if err == nil {
		return errors.New("ended")
	}
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return &redactedError{msg: msg, err: err}
}

func ptr[T any](v T) *T { return &v }
