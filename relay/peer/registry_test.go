package peer

import (
	"context"
	"errors"
	"testing"
	"time"
)

// newLife is a Lifecycle with no peer behind it: only End ends it.
func newLife() *Lifecycle {
	return &Lifecycle{connected: make(chan struct{}), ended: make(chan struct{})}
}

func TestRegistry(t *testing.T) {
	var reg Registry[string]
	lives := map[string]*Lifecycle{"a": newLife(), "b": newLife()}
	cleaned := make(chan string, 2)
	for id, life := range lives {
		reg.Go(id, life, "camera-"+id, func() {
			<-life.Ended()
			cleaned <- id + ":" + life.Reason()
		})
	}
	if n := reg.Len(); n != 2 {
		t.Fatalf("%d sessions open, want 2", n)
	}
	mine := func(want string) func(string) bool { return func(s string) bool { return s == want } }

	// A session is ended only when the request names it.
	for _, c := range []struct{ name, id, camera string }{
		{"no such session", "zzz", "camera-a"},
		{"another camera's session", "a", "camera-b"},
	} {
		if err := reg.End(context.Background(), c.id, mine(c.camera)); !errors.Is(err, ErrUnknownSession) {
			t.Errorf("%s: %v, want ErrUnknownSession", c.name, err)
		}
	}
	if reg.Len() != 2 || lives["a"].Reason() != "" {
		t.Fatalf("a refused End ended something: %d open, a ended for %q", reg.Len(), lives["a"].Reason())
	}

	// End returns once the session's run has cleaned up and it is gone.
	if err := reg.End(context.Background(), "a", mine("camera-a")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-cleaned:
		if got != "a:"+ReasonDeleted {
			t.Fatalf("cleaned up %q, want a:%s", got, ReasonDeleted)
		}
	default:
		t.Fatal("End returned before the session's run did")
	}
	if all := reg.All(); len(all) != 1 || all[0] != "camera-b" {
		t.Fatalf("open after End: %v", all)
	}
	if err := reg.End(context.Background(), "a", mine("camera-a")); !errors.Is(err, ErrUnknownSession) {
		t.Fatalf("ending it again: %v", err)
	}

	// A session whose clean-up does not finish leaves End to its context.
	stuck := newLife()
	release := make(chan struct{})
	reg.Go("c", stuck, "camera-c", func() { <-stuck.Ended(); <-release })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := reg.End(ctx, "c", mine("camera-c")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("End of a session that does not finish: %v", err)
	}
	close(release)

	// Wait returns once every session is closed.
	lives["b"].End(ReasonShutdown)
	reg.Wait()
	if n := reg.Len(); n != 0 {
		t.Fatalf("%d sessions open after Wait", n)
	}
}
