package media

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
)

// Signaller carries WHEP offers to the relay and ends sessions; the relay
// client does, with the login token.
type Signaller interface {
	OfferWHEP(ctx context.Context, site, camera, stream, offer string) (answer, session string, err error)
	DeleteWHEP(ctx context.Context, session string) error
}

// ErrConnectionLost ends a pull whose peer connection failed or closed, or
// whose track ended: the relay went away or dropped the session.
var ErrConnectionLost = errors.New("connection to the relay lost")

// trackTimeout bounds the wait for the relay's video track once the answer
// is applied; ICE and DTLS on a working path take well under it.
const trackTimeout = 10 * time.Second

// WHEP pulls camera streams from the relay over WHEP with pion.
type WHEP struct {
	signal Signaller
	api    *webrtc.API
	log    zerolog.Logger
}

// NewWHEP returns a puller for the relay at relayURL. On a loopback relay the
// peer gathers loopback candidates only.
func NewWHEP(relayURL string, signal Signaller, log zerolog.Logger) (*WHEP, error) {
	settings := webrtcavc.Settings(webrtcavc.IsLoopbackURL(relayURL))
	// Notice a dead relay in seconds rather than pion's default half minute,
	// so the view says offline while the operator is still looking. The
	// keepalive probes a silent path well before it counts as disconnected.
	settings.SetICETimeouts(2*time.Second, 5*time.Second, 500*time.Millisecond)
	api, err := webrtcavc.NewAPI(settings)
	if err != nil {
		return nil, fmt.Errorf("creating WebRTC API: %w", err)
	}
	return &WHEP{signal: signal, api: api, log: log}, nil
}

// Pull runs one WHEP session for key and calls fn with every access unit
// until ctx is cancelled or the session fails. It always ends the session
// at the relay before returning.
func (w *WHEP) Pull(ctx context.Context, key Key, fn func(avc.AccessUnit)) (err error) {
	pc, err := w.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("creating peer connection: %w", err)
	}
	defer pc.Close()

	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return fmt.Errorf("adding video transceiver: %w", err)
	}
	tracks := make(chan *webrtc.TrackRemote, 1)
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		if t.Kind() != webrtc.RTPCodecTypeVideo {
			return
		}
		// Reading RTCP lets the interceptors see sender reports.
		go func() {
			for {
				if _, _, err := r.ReadRTCP(); err != nil {
					return
				}
			}
		}()
		select {
		case tracks <- t:
		default:
		}
	})
	lost := make(chan webrtc.PeerConnectionState, 1)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		w.log.Debug().Str("camera", key.String()).Str("pc_state", s.String()).Msg("peer connection state")
		// A relay that closes its peer (crash, restart, dropped session)
		// sends no goodbye pion acts on; the path just goes silent. Two
		// seconds without even a keepalive answer is an outage worth a
		// new session rather than waiting for ICE to fail.
		switch s {
		case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			select {
			case lost <- s:
			default:
			}
		}
	})

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("creating offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("setting local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return ctx.Err()
	}

	answer, session, err := w.signal.OfferWHEP(ctx, key.Site, key.Camera, key.Stream, pc.LocalDescription().SDP)
	if err != nil {
		return err
	}
	defer func() {
		// The pull's ctx may be cancelled already; the relay should still
		// learn that the session is over, and promptly.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := w.signal.DeleteWHEP(dctx, session); derr != nil {
			w.log.Debug().Err(derr).Str("camera", key.String()).Msg("ending WHEP session")
		}
	}()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("applying WHEP answer: %w", err)
	}

	var track *webrtc.TrackRemote
	timer := time.NewTimer(trackTimeout)
	defer timer.Stop()
	select {
	case track = <-tracks:
	case s := <-lost:
		return fmt.Errorf("%w: peer connection %s before video arrived", ErrConnectionLost, s)
	case <-timer.C:
		return fmt.Errorf("%w: no video track within %v", ErrConnectionLost, trackTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	w.log.Debug().Str("camera", key.String()).Str("codec", track.Codec().MimeType).Msg("receiving video")
	// Ask for a keyframe at once rather than wait for the camera's next one;
	// a relay with a GOP cache has sent one already and ignores this.
	_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(track.SSRC())}})

	// ReadRTP does not watch ctx; closing the connection unblocks it.
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	go func() {
		select {
		case <-readCtx.Done():
		case <-lost:
		}
		_ = pc.Close()
	}()
	err = webrtcavc.ReadTrack(readCtx, track, fn)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w: %v", ErrConnectionLost, err)
}
