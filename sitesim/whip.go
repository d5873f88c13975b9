package sitesim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/webrtcavc"
)

const (
	// signalTimeout bounds one WHIP request.
	signalTimeout = 10 * time.Second
	// connectTimeout bounds ICE and DTLS after the answer.
	connectTimeout = 15 * time.Second
	// maxAnswerBytes bounds the SDP answer read from the relay.
	maxAnswerBytes = 1 << 20
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
	token    string
	api      *webrtc.API
	client   *http.Client
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
		token:  token,
		api:    api,
		client: &http.Client{},
		source: source,
		log:    log,
	}, nil
}

// relayError is a refusal by the relay, with its JSON error when it sent one.
type relayError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *relayError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("relay answered %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("relay answered %d %s: %s", e.Status, e.Code, e.Message)
}

func readRelayError(resp *http.Response) *relayError {
	e := &relayError{Status: resp.StatusCode}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var doc struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil && doc.Error.Message != "" {
		e.Code, e.Message = doc.Error.Code, doc.Error.Message
		return e
	}
	e.Message = strings.TrimSpace(string(body))
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "…"
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
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
		var re *relayError
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

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return false, fmt.Errorf("creating offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return false, fmt.Errorf("setting local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return false, ctx.Err()
	}

	location, answer, err := p.post(ctx, pc.LocalDescription().SDP)
	if err != nil {
		return false, err
	}
	log := p.log.With().Str("session", location).Logger()
	defer func() {
		if p.abandon.Load() {
			log.Info().Msg("camera died; session abandoned without DELETE")
			return
		}
		p.delete(context.WithoutCancel(ctx), location, log)
	}()

	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return false, fmt.Errorf("applying the relay's answer: %w", err)
	}
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

// post sends the offer and returns the session URL and the answer.
func (p *whipPublisher) post(ctx context.Context, offer string) (location, answer string, err error) {
	ctx, cancel := context.WithTimeout(ctx, signalTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint, strings.NewReader(offer))
	if err != nil {
		return "", "", fmt.Errorf("building WHIP request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/sdp")
	resp, err := p.client.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("posting offer: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", "", readRelayError(resp)
	}
	loc, err := resp.Location()
	if err != nil {
		return "", "", fmt.Errorf("relay answered 201 without a usable Location: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return "", "", fmt.Errorf("reading answer: %w", err)
	}
	if len(body) > maxAnswerBytes {
		return "", "", fmt.Errorf("answer over %d bytes", maxAnswerBytes)
	}
	return loc.String(), string(body), nil
}

// delete ends the session at the relay; the relay would otherwise wait for
// the connection to time out before accepting the camera again.
func (p *whipPublisher) delete(ctx context.Context, location string, log zerolog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		log.Warn().Err(err).Msg("building DELETE")
		return
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		log.Warn().Err(err).Msg("deleting session")
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		re := readRelayError(resp)
		log.Warn().Int("status", re.Status).Str("code", re.Code).Str("relay_message", re.Message).Msg("relay refused DELETE")
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
