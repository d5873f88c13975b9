package relay

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/metrics"
	"github.com/qianliyan/qianliyan/relay/rtsppull"
	"github.com/qianliyan/qianliyan/relay/store"
)

// sourcesInterval is how often the relay looks for RTSP sources added,
// changed or removed in its database (relay camera add, a running relay's
// data directory): they apply within it, without a restart.
const sourcesInterval = 3 * time.Second

// pullers runs one RTSP puller per camera source in the database.
type pullers struct {
	hub     *hub.Hub
	metrics *metrics.Metrics
	log     zerolog.Logger

	running map[store.CameraSource]*puller
	wg      sync.WaitGroup
}

type puller struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// follow keeps the pullers in line with the database until ctx is
// cancelled, then stops them all; sources are those read at start.
func (p *pullers) follow(ctx context.Context, st *store.Store, sources []store.CameraSource) {
	p.running = make(map[store.CameraSource]*puller)
	p.sync(ctx, sources)
	t := time.NewTicker(sourcesInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.sync(ctx, nil)
			p.wg.Wait()
			return
		case <-t.C:
			sources, err := st.CameraSources(ctx)
			if err != nil {
				if ctx.Err() == nil {
					p.log.Error().Str("component", "relay").Err(err).Msg("reading camera sources")
				}
				continue
			}
			p.sync(ctx, sources)
		}
	}
}

// sync starts pullers for new sources and stops those of sources gone or
// changed (a changed URL or transport is a new source).
func (p *pullers) sync(ctx context.Context, sources []store.CameraSource) {
	want := make(map[store.CameraSource]bool, len(sources))
	for _, s := range sources {
		want[s] = true
	}
	for s, pl := range p.running {
		if !want[s] {
			// Stopped before its successor starts: both would publish
			// to the same stream.
			pl.cancel()
			<-pl.done
			delete(p.running, s)
			p.log.Info().Str("component", "relay").Str("stream", key(s).String()).Msg("RTSP source removed")
		}
	}
	for _, s := range sources {
		if _, ok := p.running[s]; !ok && ctx.Err() == nil {
			p.running[s] = p.start(ctx, s)
		}
	}
}

func key(s store.CameraSource) hub.Key {
	return hub.Key{Site: s.Site, Camera: s.Camera, Stream: s.Stream}
}

func (p *pullers) start(ctx context.Context, s store.CameraSource) *puller {
	ctx, cancel := context.WithCancel(ctx)
	pl := &puller{cancel: cancel, done: make(chan struct{})}
	src := rtsppull.Source{Key: key(s), URL: s.URL, Transport: s.Transport}
	in := p.metrics.In("rtsp")
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(pl.done)
		err := rtsppull.Run(ctx, p.hub, src, rtsppull.Options{
			OnReconnect: func(hub.Key, error) { p.metrics.Reconnect("rtsp") },
			OnPacket:    in.Received,
			Log:         p.log,
		})
		if ctx.Err() == nil {
			// A source saved without the checks the configuration and
			// the command line make: say so, and keep serving.
			p.log.Error().Str("component", "relay").Err(err).Msg("RTSP source not pulled")
		}
	}()
	return pl
}
