package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/forward"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// The test binary run with childData set is a console in miniature for
// TestConsoleKilledMidBurstForwardsEachFindingOnce: it opens the store,
// signs in, forwards, and flags until the store holds childTotal findings,
// then says "drained" once the outbox is empty.
const (
	childData     = "QLY_FORWARD_CHILD_DATA"
	childRelay    = "QLY_FORWARD_CHILD_RELAY"
	childUser     = "QLY_FORWARD_CHILD_USER"
	childPassword = "QLY_FORWARD_CHILD_PASSWORD"
	childTotal    = "QLY_FORWARD_CHILD_TOTAL"
)

func TestMain(m *testing.M) {
	if os.Getenv(childData) != "" {
		if err := forwardingChild(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func forwardingChild() error {
	ctx := context.Background()
	total, err := strconv.Atoi(os.Getenv(childTotal))
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, os.Getenv(childData))
	if err != nil {
		return err
	}
	rc, err := relayclient.New(os.Getenv(childRelay), relayclient.Options{})
	if err != nil {
		return err
	}
	if _, err := rc.Login(ctx, os.Getenv(childUser), os.Getenv(childPassword)); err != nil {
		return err
	}
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel)
	go forward.New(forward.Options{Store: st, Relay: rc, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Log: log}).Run(ctx)
	for {
		have, err := st.List(ctx, time.Time{}, 0)
		if err != nil {
			return err
		}
		if len(have) >= total {
			break
		}
		snapshot, err := seededJPEG(len(have))
		if err != nil {
			return err
		}
		at := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
		f, err := st.Create(ctx, store.Flag{
			Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", TemplateID: "ppe-doffing", TemplateVersion: 1,
			Step: "goggles", Deviation: "wrong_order", DeviationText: fmt.Sprintf("脱卸顺序错误 #%d", len(have)), Severity: "major",
			Observer: "duty", ObservedAt: at, Deadline: at.Add(48 * time.Hour),
			Snapshot: snapshot, SnapshotW: 32, SnapshotH: 18,
		})
		if err != nil {
			return err
		}
		fmt.Println("flagged", f.ID)
		time.Sleep(2 * time.Millisecond)
	}
	for {
		n, err := st.Outbox(ctx, 1)
		if err != nil {
			return err
		}
		if len(n) == 0 {
			fmt.Println("drained")
			select {} // until killed
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seededJPEG is a small JPEG, different for every seed: each finding has a
// snapshot of its own.
func seededJPEG(seed int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 32, 18))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*7 + seed*13)
	}
	img.Set(seed%32, (seed/32)%18, color.RGBA{R: uint8(seed), G: uint8(seed >> 8), A: 255})
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	return buf.Bytes(), err
}

// TestConsoleKilledMidBurstForwardsEachFindingOnce kills a console with
// SIGKILL at random points while it flags 200 findings and forwards them,
// and starts it again each time: every committed finding reaches the relay
// exactly once, with its snapshot once, and the relay has nothing else.
func TestConsoleKilledMidBurstForwardsEachFindingOnce(t *testing.T) {
	const total, kills = 200, 8
	relay := relaytest.Start(t, relaytest.Options{})
	creds := relay.Demo()
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	run := func(until func(line string) bool, within time.Duration) bool {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childData+"="+dir, childRelay+"="+relay.URL(), childUser+"="+creds.User,
			childPassword+"="+creds.Password, childTotal+"="+strconv.Itoa(total))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		timer := time.NewTimer(within)
		defer timer.Stop()
		reached := false
	wait:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break wait
				}
				if until(l) {
					reached = true
					break wait
				}
			case <-timer.C:
				break wait
			}
		}
		cmd.Process.Kill() // SIGKILL: no deferred function, no flush
		go func() {
			for range lines {
			}
		}()
		err = cmd.Wait()
		if !strings.Contains(fmt.Sprint(err), "killed") {
			t.Fatalf("the console ended by itself: %v\n%s", err, stderr.String())
		}
		return reached
	}

	for range kills {
		// Killed after a random number of flags, at a random moment.
		flags, n := 5+rng.IntN(30), 0
		run(func(line string) bool {
			if strings.HasPrefix(line, "flagged ") {
				n++
			}
			return n >= flags
		}, time.Duration(50+rng.IntN(400))*time.Millisecond)
	}
	if !run(func(line string) bool { return line == "drained" }, eventually.Ceiling) {
		t.Fatalf("the console did not flag and forward everything within %v of its last start", eventually.Ceiling)
	}

	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	committed, err := st.List(context.Background(), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(committed) != total {
		t.Fatalf("%d findings committed, want %d", len(committed), total)
	}
	db := relay.DB(t)
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	for _, f := range committed {
		if f.Forward.State != store.ForwardForwarded {
			t.Errorf("%s: forward state %+v", f.ID, f.Forward)
		}
		if c := count(`SELECT count(*) FROM finding_events WHERE finding_id = ? AND action = 'created'`, f.ID); c != 1 {
			t.Errorf("%s created %d times at the relay", f.ID, c)
		}
		if c := count(`SELECT count(*) FROM finding_events WHERE finding_id = ? AND action = 'evidence'`, f.ID); c != 1 {
			t.Errorf("%s: its snapshot recorded %d times at the relay", f.ID, c)
		}
		if c := count(`SELECT count(*) FROM finding_evidence WHERE finding_id = ? AND kind = 'snapshot' AND sha256 = ?`, f.ID, f.Snapshot.SHA256); c != 1 {
			t.Errorf("%s: %d matching snapshots at the relay", f.ID, c)
		}
	}
	if c := count(`SELECT count(*) FROM findings`); c != total {
		t.Fatalf("%d findings at the relay, want %d", c, total)
	}
}
