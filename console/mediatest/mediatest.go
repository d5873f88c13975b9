// Package mediatest gives the tests of the console's video consumers (the
// bridge, the evidence buffers, the findings) camera sources pulling from a
// real relay, and viewers keeping them pulling.
package mediatest

import (
	"context"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
)

// Sources returns sources pulling over WHEP from the relay client is signed
// in to, closed when the test ends.
func Sources(t testing.TB, client *relayclient.Client, opts media.Options) *media.Sources {
	t.Helper()
	puller, err := media.NewWHEP(client.BaseURL(), client, opts.Log)
	if err != nil {
		t.Fatal(err)
	}
	sources := media.NewSources(context.Background(), puller, opts)
	t.Cleanup(sources.Close)
	return sources
}

// Viewer stands for a view watching a camera stream: it keeps the stream
// pulling and holds the newest units it got.
type Viewer struct{ units chan avc.AccessUnit }

// OnAccessUnit keeps au, dropping it when the viewer is far behind.
func (v *Viewer) OnAccessUnit(au avc.AccessUnit) {
	select {
	case v.units <- au:
	default:
	}
}

// OnState ignores states.
func (v *Viewer) OnState(media.State) {}

// Watch subscribes a viewer to key until the test ends or unsubscribe is
// called.
func Watch(t testing.TB, sources *media.Sources, key media.Key) (v *Viewer, unsubscribe func()) {
	t.Helper()
	v = &Viewer{units: make(chan avc.AccessUnit, 4096)}
	unsubscribe, err := sources.Subscribe(key, v)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsubscribe)
	return v, unsubscribe
}

// OnScreen waits for video and returns the newest unit the viewer got: the
// frame on screen.
func (v *Viewer) OnScreen(t testing.TB) avc.AccessUnit {
	t.Helper()
	var au avc.AccessUnit
	select {
	case au = <-v.units:
	case <-time.After(eventually.Ceiling):
		t.Fatal("no video")
	}
	for {
		select {
		case au = <-v.units:
		default:
			return au
		}
	}
}
