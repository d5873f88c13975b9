// Package whep serves hub streams to WHEP viewers: one hub reader and one
// pion peer per session, each with its own packetizer, so every viewer gets
// its own RTP sequence numbers and timestamps. It speaks SDP and pion;
// HTTP is package api's.
package whep

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/webrtcavc"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/peer"
	"github.com/qianliyan/qianliyan/relay/store"
)

// Errors of Play and End.
var (
	// ErrCameraOffline: neither of the camera's streams has a source.
	ErrCameraOffline = errors.New("camera offline")
	// ErrUnknownSession: no such session under the camera for this user.
	ErrUnknownSession = peer.ErrUnknownSession
)

// Recorder keeps the record of who watched what (the store).
type Recorder interface {
	StartWHEPSession(ctx context.Context, s store.WHEPSession) error
	EndWHEPSession(ctx context.Context, id string, at time.Time, reason string) error
}

// Observer is told what sessions send, for metrics.
type Observer interface {
	// FirstKeyframe is the time from a viewer's POST to its first
	// keyframe written to its track.
	FirstKeyframe(d time.Duration)
	// Sent counts RTP packets and bytes written to viewers.
	Sent(packets, bytes int)
}

// Config is what a Server needs.
type Config struct {
	API            *webrtc.API // from webrtcavc.NewAPI
	Hub            *hub.Hub
	Recorder       Recorder
	ConnectTimeout time.Duration
	Observer       Observer // optional
	Log            zerolog.Logger
	Now            func() time.Time // time.Now when nil; for the session record
}

// Server holds the WHEP sessions. Sessions end when ctx is cancelled.
type Server struct {
	cfg      Config
	ctx      context.Context
	sessions peer.Registry[*session]
}

type session struct {
	id     string
	user   string
	key    hub.Key // the stream served
	want   hub.Key // the stream asked for, which key gives way to once it is back
	lease  Lease   // nil when none was given
	posted time.Time
	pc     *webrtc.PeerConnection
	track  *webrtc.TrackLocalStaticRTP
	life   *peer.Lifecycle

	mu     sync.Mutex
	reader *hub.Reader // once connected
	remote string      // the viewer's address as ICE found it
}

// requestKeyframe passes a viewer's PLI or FIR on to the stream's source.
func (sess *session) requestKeyframe() {
	sess.mu.Lock()
	r := sess.reader
	sess.mu.Unlock()
	if r != nil {
		r.RequestKeyframe()
	}
}

// New returns a server whose sessions live until ctx is cancelled.
func New(ctx context.Context, cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, ctx: ctx}
}

// Request is one viewer's ask to watch a stream.
type Request struct {
	Key    hub.Key // the stream asked for
	User   string
	Remote string // the address the viewer asks from, for the record
	Offer  string
	// Lease, when set, is the viewer's right to watch: the session ends
	// when it does, and releases it once over (Play's failure leaves it
	// to the caller).
	Lease Lease
}

// Lease is a viewer's right to watch (auth.Lease).
type Lease interface {
	// Done is closed when the viewer has lost the right.
	Done() <-chan struct{}
	// Reason says why, for the session's record ("token_revoked").
	Reason() string
	Release()
}

// Session is an answered WHEP session.
type Session struct {
	ID     string
	Answer string
	// Stream is the stream served: the one asked for, or the camera's
	// other stream when the one asked for has no source (for now, sites
	// publish one stream per camera; a viewer asking for "sub" of a camera
	// publishing only "main" gets "main" rather than nothing), until the
	// one asked for is back (hub.SubscribeUntil).
	Stream string
}

// Play answers a viewer's offer. It fails with peer.ErrBadOffer for an
// offer it cannot answer and ErrCameraOffline when neither of the camera's
// streams has a source.
func (s *Server) Play(ctx context.Context, req Request) (Session, error) {
	posted := time.Now()
	if err := peer.CheckOffer(req.Offer); err != nil {
		return Session{}, err
	}
	key := req.Key
	if !s.cfg.Hub.Online(key) {
		key = key.Other()
		if !s.cfg.Hub.Online(key) {
			return Session{}, ErrCameraOffline
		}
	}

	pc, err := s.cfg.API.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return Session{}, fmt.Errorf("creating peer connection: %w", err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtcavc.H264Codec.RTPCodecCapability, "video", "qianliyan")
	if err != nil {
		pc.Close()
		return Session{}, fmt.Errorf("creating video track: %w", err)
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		pc.Close()
		return Session{}, fmt.Errorf("adding video track: %w", err)
	}
	sess := &session{id: peer.NewSessionID(), user: req.User, key: key, want: req.Key, posted: posted, pc: pc, track: track, lease: req.Lease}
	// A viewer whose network hiccups may come back: only failure ends it.
	sess.life = peer.Watch(pc, s.cfg.ConnectTimeout, false)
	answer, err := peer.Answer(ctx, pc, req.Offer)
	if err != nil {
		pc.Close()
		return Session{}, err
	}
	rec := store.WHEPSession{
		ID: sess.id, User: req.User, Site: key.Site, Camera: key.Camera,
		RequestedStream: req.Key.Stream, Stream: key.Stream, Remote: req.Remote, Started: s.cfg.Now(),
	}
	if err := s.cfg.Recorder.StartWHEPSession(ctx, rec); err != nil {
		pc.Close()
		return Session{}, err
	}
	log := s.cfg.Log.With().Str("session", sess.id).Str("stream", key.String()).Str("user", req.User).Logger()

	s.sessions.Go(sess.id, sess.life, sess, func() { s.run(sess, log) })
	// Reading the sender's RTCP also keeps the interceptors (NACK
	// responder, reports) running.
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					sess.requestKeyframe()
				}
			}
		}
	}()
	log.Info().Str("requested", req.Key.Stream).Msg("viewer answered")
	return Session{ID: sess.id, Answer: answer, Stream: key.Stream}, nil
}

// run sends the stream once the viewer connects, until the session ends.
func (s *Server) run(sess *session, log zerolog.Logger) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	var revoked <-chan struct{} // nil, never ready, without a lease
	if sess.lease != nil {
		revoked = sess.lease.Done()
		defer sess.lease.Release()
	}
	go func() {
		select {
		case <-sess.life.Ended():
			cancel()
		case <-revoked:
			// The relay ends the session itself: the viewer's peer sees
			// the connection closed, and the record says why.
			sess.life.End(sess.lease.Reason())
			cancel()
		case <-ctx.Done():
		}
	}()

	// Units written before DTLS is up would be lost, and with them the
	// cached keyframe: subscribe only once connected.
	select {
	case <-sess.life.Connected():
		// Browsers hide their addresses behind mDNS names the relay does
		// not resolve: ICE learns them from the viewer's connectivity
		// checks (a peer-reflexive candidate).
		if pair, err := sess.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
			sess.mu.Lock()
			sess.remote = fmt.Sprintf("%s:%d %s", pair.Remote.Address, pair.Remote.Port, pair.Remote.Typ)
			sess.mu.Unlock()
			log.Info().Str("remote", sess.remote).Msg("viewer connected")
		}
		err := s.send(ctx, sess)
		if ctx.Err() == nil {
			log.Warn().Err(err).Msg("sending to viewer")
			sess.life.End(peer.ReasonClosed)
		}
	case <-ctx.Done():
	}
	if s.ctx.Err() != nil {
		sess.life.End(peer.ReasonShutdown)
	}
	<-sess.life.Ended()

	if err := sess.pc.Close(); err != nil {
		log.Debug().Err(err).Msg("closing peer connection")
	}
	// The session's record is closed even when the relay is shutting down.
	recCtx, recCancel := context.WithTimeout(context.WithoutCancel(s.ctx), 5*time.Second)
	defer recCancel()
	if err := s.cfg.Recorder.EndWHEPSession(recCtx, sess.id, s.cfg.Now(), sess.life.Reason()); err != nil {
		log.Error().Err(err).Msg("recording the end of the session")
	}
	log.Info().Str("reason", sess.life.Reason()).Msg("viewer left")
}

// send copies the stream to the viewer's track until ctx ends.
func (s *Server) send(ctx context.Context, sess *session) error {
	reader, err := s.cfg.Hub.SubscribeUntil(sess.key, sess.want)
	if err != nil {
		return fmt.Errorf("subscribing to %s: %w", sess.key, err)
	}
	defer reader.Close()
	sess.mu.Lock()
	sess.reader = reader
	sess.mu.Unlock()
	pz, err := webrtcavc.NewPacketizer(uint8(webrtcavc.H264Codec.PayloadType))
	if err != nil {
		return err
	}
	// The cached GOP goes out in a burst with its own timestamps: measured
	// with Chromium (TestChromiumCatchesUpAfterTheBurst), a browser's
	// jitter buffer then shows the newest picture at once rather than
	// replaying the GOP at its pace, so the timestamps need no squeezing.
	firstKeyframe := true
	for {
		au, err := reader.Read(ctx)
		if err != nil {
			return fmt.Errorf("reading %s: %w", sess.key, err)
		}
		pkts, err := pz.Packetize(au)
		if errors.Is(err, webrtcavc.ErrEmptyAccessUnit) {
			continue // nothing to send
		}
		if err != nil {
			return err
		}
		bytes := 0
		for _, pkt := range pkts {
			if err := sess.track.WriteRTP(pkt); err != nil {
				return fmt.Errorf("writing RTP: %w", err)
			}
			bytes += pkt.MarshalSize()
		}
		if s.cfg.Observer != nil {
			s.cfg.Observer.Sent(len(pkts), bytes)
			if firstKeyframe && au.Keyframe {
				s.cfg.Observer.FirstKeyframe(time.Since(sess.posted))
			}
		}
		if au.Keyframe {
			firstKeyframe = false
		}
		// A viewer that has fallen behind has units queued, and Read does
		// not block: without a yield, hundreds of such loops each hold a
		// core for the scheduler's whole 10 ms slice, and the publishers'
		// socket readers wait their turn for seconds, long enough for ICE
		// to drop the camera (bench fanout, docs/PERFORMANCE.md). Yielding
		// after each unit keeps the ingest served while viewers lag.
		runtime.Gosched()
	}
}

// End ends session id watching site/camera (a WHEP DELETE) and returns
// once it is cleaned up. The session's unguessable ID is what entitles the
// caller: a viewer whose sign-in no longer holds may still leave.
func (s *Server) End(ctx context.Context, site, camera, id string) error {
	err := s.sessions.End(ctx, id, func(sess *session) bool {
		return sess.key.Site == site && sess.key.Camera == camera
	})
	if err != nil && !errors.Is(err, ErrUnknownSession) {
		return fmt.Errorf("ending WHEP session: %w", err)
	}
	return err
}

// SessionInfo describes an open session.
type SessionInfo struct {
	ID     string
	User   string
	Stream hub.Key
	// Remote is the viewer's address and candidate type as ICE selected
	// it ("127.0.0.1:50000 prflx"); empty until connected.
	Remote string
}

// Sessions lists the open sessions.
func (s *Server) Sessions() []SessionInfo {
	open := s.sessions.All()
	out := make([]SessionInfo, 0, len(open))
	for _, sess := range open {
		sess.mu.Lock()
		out = append(out, SessionInfo{ID: sess.id, User: sess.user, Stream: sess.key, Remote: sess.remote})
		sess.mu.Unlock()
	}
	return out
}

// Count returns how many sessions are open.
func (s *Server) Count() int { return s.sessions.Len() }

// Wait returns once every session has ended (after ctx is cancelled).
func (s *Server) Wait() { s.sessions.Wait() }
