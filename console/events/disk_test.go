package events

import (
	"encoding/json"
	"testing"
	"time"
)

// The disk's state reaches every view, and a view that joins later gets
// the last one at once: the banner must not wait for the next change.
func TestDiskStateReachesViewsThatJoinLater(t *testing.T) {
	h := New(Options{})
	t.Cleanup(h.Close)
	early := h.Subscribe()
	since := time.Date(2026, 12, 2, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	h.Publish(DiskState(true, since))
	late := h.Subscribe()
	for name, s := range map[string]*Subscription{"early": early, "late": late} {
		ev := <-s.C()
		var d struct {
			Full  bool      `json:"full"`
			Since time.Time `json:"since"`
		}
		if err := json.Unmarshal(ev.Data, &d); ev.Name != Disk || err != nil || !d.Full || !d.Since.Equal(since) {
			t.Fatalf("%s view got %s %s, want the disk full since %v", name, ev.Name, ev.Data, since)
		}
	}
	h.Publish(DiskState(false, since.Add(time.Minute)))
	if ev := <-late.C(); ev.Name != Disk || string(ev.Data) != `{"full":false,"since":"2026-12-02T01:01:00Z"}` {
		t.Fatalf("got %s %s, want the disk with room again", ev.Name, ev.Data)
	}
	again := h.Subscribe()
	if ev := <-again.C(); string(ev.Data) != `{"full":false,"since":"2026-12-02T01:01:00Z"}` {
		t.Fatalf("a view joining after: %s %s", ev.Name, ev.Data)
	}
}
