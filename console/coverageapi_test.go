package console

import (
	"context"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// An officer who signs out watches nothing from that moment: the console
// closes their open watches then, not when a view next reports what is on
// screen (a closed window never does).
func TestSignOutEndsTheOfficersWatches(t *testing.T) {
	ctx := context.Background()
	r := relaytest.Start(t, doff1)
	b, _ := signedIn(t, options(t, nil), r)
	began := time.Now()
	if _, err := b.SetWatching(ctx, []store.Watching{{Camera: "site-01/doff1", Mode: "tile"}}); err != nil {
		t.Fatal(err)
	}
	if open, err := b.store.OpenWatches(ctx); err != nil || len(open) != 1 {
		t.Fatalf("open watches before signing out: %+v, %v", open, err)
	}
	if err := b.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	signedOut := time.Now()
	if open, err := b.store.OpenWatches(ctx); err != nil || len(open) != 0 {
		t.Fatalf("open watches after signing out: %+v, %v", open, err)
	}
	ivs, err := b.store.WatchIntervals(ctx, r.Demo().User, began.Add(-time.Minute), signedOut.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(ivs) != 1 || ivs[0].Camera != "doff1" || ivs[0].Start.Before(began.Add(-time.Second)) || ivs[0].End.After(signedOut) || ivs[0].End.Before(ivs[0].Start) {
		t.Fatalf("intervals %+v, want one of doff1 in [%v, %v]", ivs, began, signedOut)
	}
}
