package findings_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/console/mediatest"
)

// flaggedDetail is the detail of a finding's "flagged" event: how its
// observed_at was found.
func flaggedDetail(t *testing.T, r *findingstest.Rig, id string) map[string]any {
	t.Helper()
	events, err := r.Store.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Action == "flagged" {
			var d map[string]any
			if err := json.Unmarshal(ev.Detail, &d); err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Fatalf("no flagged event for %s: %+v", id, events)
	return nil
}

// A flag made right after the officer switched camera, before the
// stream's first frame reached the console's buffer, waits for it and is
// observed at that frame.
func TestFlagRightAfterTheStreamStarts(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{})
	// The stream starts with this subscription: its buffer is there and
	// empty until the relay's first keyframe arrives over WHEP. A new
	// stream's presentation times start at zero.
	mediatest.Watch(t, r.Sources, findingstest.Doff1)
	f, err := r.Findings.Flag(ctx, flagRequest(0, snapshot(t, 320, 240, 1)))
	if err != nil {
		t.Fatalf("flag right after the stream started: %v", err)
	}
	if d := flaggedDetail(t, r, f.ID); d["observed_at"] != "frame" {
		t.Fatalf("observed at %v: %v, want the first frame's arrival", f.ObservedAt, d)
	}
}

// A stream whose camera sends nothing: the flag waits its moment, then
// keeps the officer's snapshot with the flag's time for the frame's.
func TestFlagOnAStreamWithNoFrame(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{})
	r.Relay.SetOnline(t, "site-01/doff1", false)
	mediatest.Watch(t, r.Sources, findingstest.Doff1)
	before := time.Now()
	f, err := r.Findings.Flag(ctx, flagRequest(0, snapshot(t, 320, 240, 1)))
	if err != nil {
		t.Fatalf("flag on a stream with no frame: %v", err)
	}
	d := flaggedDetail(t, r, f.ID)
	if d["observed_at"] != "flag_time" || f.ObservedAt.Before(before) || f.Snapshot == nil {
		t.Fatalf("finding %+v, detail %v: want the flag's time and the snapshot", f, d)
	}
}
