package peer

import (
	"context"
	"errors"
	"sync"
)

// ErrUnknownSession is returned by Registry.End for a session that is not
// open, or not the one the request names.
var ErrUnknownSession = errors.New("unknown session")

// Registry holds a server's open sessions by ID, so that a DELETE can find
// one and end it and a shutdown can wait for them all. S is the server's
// own session type. The zero value is empty and ready.
type Registry[S any] struct {
	mu       sync.Mutex
	sessions map[string]entry[S]
	wg       sync.WaitGroup
}

type entry[S any] struct {
	session S
	life    *Lifecycle
	done    chan struct{} // closed once the session's run has returned
}

// Go opens session s under id, ended through life, and runs run in a
// goroutine of its own. run returns once the session has ended and is
// cleaned up; the session is then closed: gone from the registry, and
// whoever ended it by End released.
func (r *Registry[S]) Go(id string, life *Lifecycle, s S, run func()) {
	e := entry[S]{session: s, life: life, done: make(chan struct{})}
	r.mu.Lock()
	if r.sessions == nil {
		r.sessions = make(map[string]entry[S])
	}
	r.sessions[id] = e
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		run()
		r.mu.Lock()
		delete(r.sessions, id)
		r.mu.Unlock()
		close(e.done)
	}()
}

// End ends session id (ReasonDeleted) if it is open and named accepts it
// (the request names its camera, and for a viewer its user), and returns
// once the session is closed. It fails with ErrUnknownSession, or with
// ctx's error if ctx ends first.
func (r *Registry[S]) End(ctx context.Context, id string, named func(S) bool) error {
	r.mu.Lock()
	e, ok := r.sessions[id]
	r.mu.Unlock()
	if !ok || !named(e.session) {
		return ErrUnknownSession
	}
	e.life.End(ReasonDeleted)
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// All returns the open sessions, in no particular order.
func (r *Registry[S]) All() []S {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]S, 0, len(r.sessions))
	for _, e := range r.sessions {
		out = append(out, e.session)
	}
	return out
}

// Len returns how many sessions are open.
func (r *Registry[S]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sessions)
}

// Wait returns once every session opened has been closed.
func (r *Registry[S]) Wait() { r.wg.Wait() }
