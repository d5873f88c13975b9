// Package mediatest gives the tests of the console's video consumers (the
// bridge, the evidence buffers) camera sources pulling from a real relay.
package mediatest

import (
	"context"
	"testing"

	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/relayclient"
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
