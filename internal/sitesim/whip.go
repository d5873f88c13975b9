package sitesim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/webrtcavc"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
)

const (
	// signalTimeout bounds gathering, the offer and the answer.
	signalTimeout = 10 * time.Second
	// connectTimeout bounds ICE and DTLS after the answer.
	connectTimeout = 15 * time.Second
)

// unitSource is what the publisher needs of a generator.
type unitSource interface {
	Subscribe(buffer int) *Subscription
}

// whipPublisher keeps one camera stream published to the relay: it offers,
// streams and, whenever the relay refuses or the connection drops, tries
// again with backoff, until its context is cancelled.
type whipPublisher struct {
	endpoint string // RELAY/whip/{site}/{camera}?stream={main|sub}
	cfg      webrtcclient.Config
	api      *webrtc.API
	source   unitSource
	log      zerolog.Logger

	// abandon makes the publisher leave its session without DELETE when it
	// stops, the way a camera losing power does.
	abandon atomic.Bool

	keyframeRequests atomic.Int64 // PLI and FIR received; ffmpeg cannot honour them
	sessions         atomic.Int64 // sessions that reached connected
}

func newWHIPPublisher(relayURL, site, camera, stream, token string, source unitSource, log zerolog.Logger) (*whipPublisher, error) {
	api, err := webrtcavc.NewAPI(webrtcavc.Settings(webrtcavc.IsLoopbackURL(relayURL)))
	if err != nil {
		return nil, fmt.Errorf("creating WebRTC API: %w", err)
	}
	return &whipPublisher{
		endpoint: strings.TrimSuffix(relayURL, "/") + "/whip/" + url.PathEscape(site) + "/" + url.PathEscape(camera) +
			"?stream=" + url.QueryEscape(stream),
		cfg:    webrtcclient.Config{Token: token, API: api, HTTPClient: &http.Client{}},
		api:    api,
		source: source,
		log:    log,
	}, nil
}

// Run publishes until ctx is cancelled.
func (p *whipPublisher) Run(ctx context.Context) {
	b := backoff{min: 500 * time.Millisecond, max: 10 * time.Second}
	for {
		connected, err := p.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			b.reset()
		}
		wait := b.next()
		var re *webrtcclient.Error
		if errors.As(err, &re) {
			wait = min(max(wait, re.RetryAfter), time.Minute)
			p.log.Warn().Int("status", re.Status).Str("code", re.Code).Str("relay_message", re.Message).
				Dur("retry_in", wait).Msg("relay refused the stream")
		} else {
			p.log.Warn().Err(err).Dur("retry_in", wait).Msg("publishing failed")
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// session runs one WHIP session: offer, answer, stream until it fails or ctx
// is cancelled. It reports whether the connection came up.
func (p *whipPublisher) session(ctx context.Context) (connected bool, err error) {
	pc, err := p.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return false, fmt.Errorf("creating peer connection: %w", err)
	}
	defer pc.Close()

	track, err := webrtc.NewTrackLocalStaticRTP(webrtcavc.H264Codec.RTPCodecCapability, "video", "sitesim")
	if err != nil {
		return false, fmt.Errorf("creating video track: %w", err)
	}
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return false, fmt.Errorf("adding video transceiver: %w", err)
	}

	// Closed once, when the connection comes up or ends.
	up := make(chan struct{})
	down := make(chan struct{})
	var upOnce, downOnce atomic.Bool
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		p.log.Debug().Str("state", s.String()).Msg("connection state")
		switch s {
		case webrtc.PeerConnectionStateConnected:
			if upOnce.CompareAndSwap(false, true) {
				close(up)
			}
		case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			if downOnce.CompareAndSwap(false, true) {
				close(down)
			}
		}
	})

	sctx, cancel := context.WithTimeout(ctx, signalTimeout)
	sess, err := webrtcclient.Exchange(sctx, pc, p.endpoint, p.cfg)
	cancel()
	if err != nil {
		return false, err
	}
	log := p.log.With().Str("session", sess.Location).Logger()
	defer func() {
		if p.abandon.Load() {
			log.Info().Msg("camera died; session abandoned without DELETE")
			return
		}
		p.delete(context.WithoutCancel(ctx), sess, log)
	}()
	go p.readRTCP(tr.Sender(), log)

	timer := time.NewTimer(connectTimeout)
	defer timer.Stop()
	select {
	case <-up:
	case <-down:
		return false, errors.New("connection failed before it came up")
	case <-timer.C:
		return false, fmt.Errorf("connection not up within %v", connectTimeout)
	case <-ctx.Done():
		return false, ctx.Err()
	}
	n := p.sessions.Add(1)
	log.Info().Int64("sessions", n).Msg("publishing")

	// Subscribe only now: packets written before DTLS is up are dropped, and
	// the subscription starts at the next keyframe, so the relay's first unit
	// decodes.
	sub := p.source.Subscribe(2 * 60) // a few seconds at most frame rates
	defer sub.Close()
	pz, err := webrtcavc.NewPacketizer(uint8(webrtcavc.H264Codec.PayloadType))
	if err != nil {
		return true, err
	}
	var units int64
	defer func() { log.Info().Int64("units_sent", units).Msg("session ended") }()
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-down:
			return true, fmt.Errorf("connection %s", pc.ConnectionState())
		case au, ok := <-sub.Units():
			if !ok {
				return true, errors.New("encoder stopped")
			}
			pkts, err := pz.Packetize(au)
			if err != nil {
				log.Warn().Err(err).Msg("skipping access unit")
				continue
			}
			for _, pkt := range pkts {
				if err := track.WriteRTP(pkt); err != nil {
					return true, fmt.Errorf("writing RTP: %w", err)
				}
			}
			units++
		}
	}
}

// delete ends the session at the relay; the relay would otherwise wait for
// the connection to time out before accepting the camera again.
func (p *whipPublisher) delete(ctx context.Context, sess webrtcclient.Session, log zerolog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := webrtcclient.End(ctx, sess, p.cfg); err != nil {
		var re *webrtcclient.Error
		if errors.As(err, &re) {
			log.Warn().Int("status", re.Status).Str("code", re.Code).Str("relay_message", re.Message).Msg("relay refused DELETE")
			return
		}
		log.Warn().Err(err).Msg("deleting session")
		return
	}
	log.Debug().Msg("session deleted")
}

// readRTCP drains the sender's RTCP, which the interceptors need read, and
// counts keyframe requests. ffmpeg cannot be asked for a keyframe from
// outside, so the relay waits at most one GOP.
func (p *whipPublisher) readRTCP(sender *webrtc.RTPSender, log zerolog.Logger) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				n := p.keyframeRequests.Add(1)
				log.Debug().Int64("keyframe_requests", n).Msg("keyframe requested; next one comes with the GOP")
			}
		}
	}
}
