// Package whip makes WHIP publishers (site gateways pushing a camera over
// WebRTC) sources of the hub. It speaks SDP and pion; HTTP is package api's.
package whip

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/peer"
)

// ErrUnknownSession is returned by End for a session that does not exist
// (or not under the given camera).
var ErrUnknownSession = peer.ErrUnknownSession

// Observer is told what publishers send, for metrics.
type Observer interface {
	// Received counts one RTP packet of a publisher's video.
	Received(bytes int)
}

// Config is what a Server needs.
type Config struct {
	API            *webrtc.API // from webrtcavc.NewAPI
	Hub            *hub.Hub
	ConnectTimeout time.Duration
	Observer       Observer // optional
	Log            zerolog.Logger
}

// Server holds the WHIP sessions. Sessions end when ctx is cancelled.
type Server struct {
	cfg      Config
	ctx      context.Context
	sessions peer.Registry[*session]
}

type session struct {
	id     string
	key    hub.Key
	pc     *webrtc.PeerConnection
	source *hub.Source
	life   *peer.Lifecycle
}

// New returns a server whose sessions live until ctx is cancelled.
func New(ctx context.Context, cfg Config) *Server {
	return &Server{cfg: cfg, ctx: ctx}
}

// Publish answers a publisher's offer for the stream key and makes it the
// stream's source. It fails with peer.ErrBadOffer for an offer it cannot
// answer and hub.ErrAlreadyPublishing while the stream has a source (a
// second publisher for a live camera is refused, not swapped in: the
// first may be the right one, and a gateway that lost its connection
// gets the camera back once the relay notices, within the ICE
// disconnected timeout). An offer with audio as well as video is
// answered; the audio is received and dropped, as Qianliyan shows video only.
func (s *Server) Publish(ctx context.Context, key hub.Key, offer string) (id, answer string, err error) {
	if err := peer.CheckOffer(offer); err != nil {
		return "", "", err
	}
	src, err := s.cfg.Hub.Publish(key)
	if err != nil {
		return "", "", err
	}
	pc, err := s.cfg.API.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		src.Close()
		return "", "", fmt.Errorf("creating peer connection: %w", err)
	}
	sess := &session{id: peer.NewSessionID(), key: key, pc: pc, source: src}
	// A publisher that goes away without DELETE must free the camera for
	// its reconnection soon: disconnection ends the session.
	sess.life = peer.Watch(pc, s.cfg.ConnectTimeout, true)
	log := s.cfg.Log.With().Str("session", sess.id).Str("stream", key.String()).Logger()

	var once sync.Once
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if track.Kind() != webrtc.RTPCodecTypeVideo {
			go discard(track)
			return
		}
		fed := false
		once.Do(func() { fed = true })
		if !fed { // one video track a camera; more would interleave
			go discard(track)
			return
		}
		go s.read(sess, track, log)
	})

	answer, err = peer.Answer(ctx, pc, offer)
	if err != nil {
		pc.Close()
		src.Close()
		return "", "", err
	}
	s.sessions.Go(sess.id, sess.life, sess, func() { s.run(sess, log) })
	log.Info().Msg("publisher answered")
	return sess.id, answer, nil
}

// read feeds the video track into the stream until the session ends.
func (s *Server) read(sess *session, track *webrtc.TrackRemote, log zerolog.Logger) {
	askKeyframe := func() {
		if err := sess.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(track.SSRC())}}); err != nil {
			log.Debug().Err(err).Msg("requesting a keyframe")
		}
	}
	// Ask for a keyframe at once: viewers can start only from one. Later,
	// viewers' own requests (PLI, FIR) come through the hub.
	askKeyframe()
	sess.source.OnKeyframeRequest(askKeyframe)
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.life.Ended():
			cancel()
		case <-ctx.Done():
		}
	}()
	var in webrtcavc.RTPReader = track
	if s.cfg.Observer != nil {
		in = countingReader{track, s.cfg.Observer}
	}
	err := webrtcavc.ReadTrack(ctx, in, func(au avc.AccessUnit) { sess.source.Write(au) })
	if ctx.Err() == nil {
		log.Info().Err(err).Msg("publisher track ended")
		sess.life.End(peer.ReasonClosed)
	}
}

// countingReader tells the observer of every packet read.
type countingReader struct {
	track *webrtc.TrackRemote
	obs   Observer
}

func (c countingReader) ReadRTP() (*rtp.Packet, interceptor.Attributes, error) {
	pkt, attr, err := c.track.ReadRTP()
	if err == nil {
		c.obs.Received(pkt.MarshalSize())
	}
	return pkt, attr, err
}

// discard reads a track the relay does not forward, so pion's buffers and
// interceptors keep running.
func discard(track *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := track.Read(buf); err != nil {
			return
		}
	}
}

// run waits for the session to end, then takes the source off the stream.
func (s *Server) run(sess *session, log zerolog.Logger) {
	select {
	case <-sess.life.Ended():
	case <-s.ctx.Done():
		sess.life.End(peer.ReasonShutdown)
	}
	sess.source.Close()
	if err := sess.pc.Close(); err != nil {
		log.Debug().Err(err).Msg("closing peer connection")
	}
	log.Info().Str("reason", sess.life.Reason()).Msg("publisher left")
}

// End ends the session id publishing to site/camera (a WHIP DELETE) and
// returns once the stream is free for the next publisher.
func (s *Server) End(ctx context.Context, site, camera, id string) error {
	err := s.sessions.End(ctx, id, func(sess *session) bool { return sess.key.Site == site && sess.key.Camera == camera })
	if err != nil && !errors.Is(err, ErrUnknownSession) {
		return fmt.Errorf("ending WHIP session: %w", err)
	}
	return err
}

// Wait returns once every session has ended (after ctx is cancelled).
func (s *Server) Wait() { s.sessions.Wait() }
