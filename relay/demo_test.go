package relay

import (
	"context"
	"testing"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/store"
)

// TestDemoKeepsWhatAnAdminAdded: the demo is made once; a camera an admin
// added to a demo site since (relay camera add) is there after the next
// start with the demo, as are the demo's own (issue 10.15).
func TestDemoKeepsWhatAnAdminAdded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := Options{Listen: "127.0.0.1:0", DataDir: dir, Demo: true, Log: testLogger(t)}
	r, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	before, err := r.store.Cameras(ctx)
	if err != nil {
		t.Fatal(err)
	}
	added := store.Camera{Site: "site-01", ID: "yard", Zone: "outdoor", Name: bilingual.New("院子", "Yard")}
	if err := r.store.PutCamera(ctx, added); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	r, err = Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	after, err := r.store.Cameras(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Fatalf("%d cameras after the restart, want the demo's %d and the admin's", len(after), len(before))
	}
	got, err := r.store.Camera(ctx, added.Site, added.ID)
	if err != nil {
		t.Fatalf("the admin's camera after the restart: %v", err)
	}
	if got.Zone != added.Zone || got.Name.In(bilingual.EN) != "Yard" {
		t.Fatalf("the admin's camera came back as %+v", got)
	}
}
