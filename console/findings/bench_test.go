package findings_test

import (
	"context"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/console/store"
)

// BenchmarkFlag is a flag through the core to its committed finding:
// decoding the snapshot, the relay's camera list, locating the frame in the
// stream's buffer, the commit (row, snapshot file, history, outbox) and
// the clip's pre-roll written to disk. The stream is real H.264 over a real
// pion peer; each flag's clip records on in the background.
func BenchmarkFlag(b *testing.B) {
	r := findingstest.New(b, findingstest.Options{})
	v := r.Watch(b, findingstest.Doff1, findingstest.ClipBefore+time.Second)
	in := flagRequest(v.OnScreen(b).PTS, snapshot(b, 320, 240, 9))
	b.ResetTimer()
	for range b.N {
		if _, err := r.Findings.Flag(ctx, in); err != nil {
			b.Fatalf("flag: %v", err)
		}
	}
}

// BenchmarkCommit is the store's part of a flag alone: the row, a 320x240
// snapshot written and synced under its hash, the history and the outbox,
// in one transaction.
func BenchmarkCommit(b *testing.B) {
	st, err := store.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	jpgs := make([][]byte, 64)
	for i := range jpgs {
		jpgs[i] = snapshot(b, 320, 240, uint8(i))
	}
	at := time.Now()
	b.ResetTimer()
	for i := range b.N {
		// A new snapshot each time, so each commit writes its file.
		jpg := append(jpgs[i%len(jpgs)][:len(jpgs[i%len(jpgs)]):len(jpgs[i%len(jpgs)])], byte(i), byte(i>>8), byte(i>>16))
		if _, err := st.Create(context.Background(), store.Flag{
			Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", TemplateID: "ppe-doffing", TemplateVersion: 1,
			Step: "goggles", Deviation: "wrong_order", DeviationText: "脱卸顺序错误", Severity: "major",
			Observer: "duty", ObservedAt: at, Deadline: at.Add(48 * time.Hour),
			Snapshot: jpg, SnapshotW: 320, SnapshotH: 240, RecordClip: true,
		}); err != nil {
			b.Fatal(err)
		}
	}
}
