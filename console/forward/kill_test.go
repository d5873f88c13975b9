package forward

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
)

// The test binary run with childData set is a console in miniature: it
// opens the store, signs in, forwards, and flags until the store holds
// childTotal findings, then says "drained" once the outbox is empty.
const (
	childData     = "QLY_FORWARD_CHILD_DATA"
	childRelay    = "QLY_FORWARD_CHILD_RELAY"
	childUser     = "QLY_FORWARD_CHILD_USER"
	childPassword = "QLY_FORWARD_CHILD_PASSWORD"
	childTotal    = "QLY_FORWARD_CHILD_TOTAL"
)

func TestMain(m *testing.M) {
	if os.Getenv(childData) != "" {
		if err := child(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child() error {
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
	go New(Options{Store: st, Relay: rc, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Log: log}).Run(ctx)
	for {
		have, err := st.List(ctx, time.Time{}, 0)
		if err != nil {
			return err
		}
		if len(have) >= total {
			break
		}
		f, err := st.Create(ctx, flagNumber(len(have), false))
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

// TestKilledMidBurstForwardsEachFindingOnce kills a console with SIGKILL at
// random points while it flags 200 findings and forwards them, and starts
// it again each time: every committed finding reaches the relay exactly
// once, with its snapshot once, and the relay has nothing else.
func TestKilledMidBurstForwardsEachFindingOnce(t *testing.T) {
	const total, kills = 200, 8
	tr := startRelay(t)
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	run := func(until func(line string) bool, within time.Duration) bool {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childData+"="+dir, childRelay+"="+tr.URL(), childUser+"="+tr.r.Demo().User,
			childPassword+"="+tr.r.Demo().Password, childTotal+"="+strconv.Itoa(total))
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
	if !run(func(line string) bool { return line == "drained" }, 60*time.Second) {
		t.Fatal("the console did not flag and forward everything within 60 s of its last start")
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
	db := tr.db(t)
	for _, f := range committed {
		if f.Forward.State != store.ForwardForwarded {
			t.Errorf("%s: forward state %+v", f.ID, f.Forward)
		}
		if c := count(t, db, `SELECT count(*) FROM finding_events WHERE finding_id = ? AND action = 'created'`, f.ID); c != 1 {
			t.Errorf("%s created %d times at the relay", f.ID, c)
		}
		if c := count(t, db, `SELECT count(*) FROM finding_events WHERE finding_id = ? AND action = 'evidence'`, f.ID); c != 1 {
			t.Errorf("%s: its snapshot recorded %d times at the relay", f.ID, c)
		}
		if c := count(t, db, `SELECT count(*) FROM finding_evidence WHERE finding_id = ? AND kind = 'snapshot' AND sha256 = ?`, f.ID, f.Snapshot.SHA256); c != 1 {
			t.Errorf("%s: %d matching snapshots at the relay", f.ID, c)
		}
	}
	if c := count(t, db, `SELECT count(*) FROM findings`); c != total {
		t.Fatalf("%d findings at the relay, want %d", c, total)
	}
}
