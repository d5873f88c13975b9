package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/qianliyan/qianliyan/internal/fault"
)

// ErrDiskFull is in the chain of every write the data disk refused for
// want of space. Such an error is a *fault.Error too (InsufficientStorage,
// code "disk_full"), which the view shows the officer as it is.
var ErrDiskFull = errors.New("the console's data disk is full")

// CodeDiskFull is the code of a write refused for want of space.
const CodeDiskFull = "disk_full"

// Disk is the data disk as the store's writes found it.
type Disk struct {
	Full  bool
	Since time.Time // when it filled, or last had room again
	// Reason is the write that found it full, for the log.
	Reason string
}

// space follows the data disk from the store's writes.
type space struct {
	mu       sync.Mutex
	disk     Disk
	watchers []func(Disk)
	notify   sync.Mutex // one notification at a time, in order
}

// Disk is the data disk as the last writes found it.
func (s *Store) Disk() Disk {
	s.space.mu.Lock()
	defer s.space.mu.Unlock()
	return s.space.disk
}

// OnDisk calls fn each time the data disk turns full or has room again;
// fn must not block.
func (s *Store) OnDisk(fn func(Disk)) {
	s.space.mu.Lock()
	defer s.space.mu.Unlock()
	s.space.watchers = append(s.space.watchers, fn)
}

// probeBytes is what CheckSpace writes: room for a flag's snapshot and the
// database's transaction with it.
const probeBytes = 1 << 20

// CheckSpace writes and removes a file of a megabyte in the data folder,
// synced: while the disk is full nothing else tells when space returns
// (a database write can succeed in the room its journal already has). It
// returns the disk as found.
func (s *Store) CheckSpace() Disk {
	err := func() error {
		f, err := os.CreateTemp(filepath.Join(s.dir, "partial"), ".space-*")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if _, err := f.Write(make([]byte, probeBytes)); err != nil {
			return err
		}
		return f.Sync()
	}()
	if err != nil && !diskFull(err) {
		// Not a matter of space: the disk as it was.
		return s.Disk()
	}
	s.noteSpace(err, true)
	return s.Disk()
}

// spaceErr passes on a write's error, turned into the officer's fault when
// the disk is full, and notes that the disk is full. A nil error notes
// nothing: a database write can succeed in a full disk.
func (s *Store) spaceErr(err error) error {
	if err == nil || !diskFull(err) {
		return err
	}
	s.noteSpace(err, false)
	return &fault.Error{
		Kind: fault.InsufficientStorage, Code: CodeDiskFull,
		Message: "the console's data disk is full: nothing can be saved until space is freed on it",
		Err:     fmt.Errorf("%w: %w", ErrDiskFull, err),
	}
}

// noteSpace records what a write found: full when err is a full disk's,
// room again when a write that needed fresh space (a file) succeeded.
func (s *Store) noteSpace(err error, needed bool) {
	full := err != nil
	if !full && !needed {
		return
	}
	sp := &s.space
	sp.notify.Lock()
	defer sp.notify.Unlock()
	sp.mu.Lock()
	if sp.disk.Full == full {
		sp.mu.Unlock()
		return
	}
	sp.disk = Disk{Full: full, Since: s.now()}
	if full {
		sp.disk.Reason = err.Error()
	}
	d, watchers := sp.disk, slices.Clone(sp.watchers)
	sp.mu.Unlock()
	for _, fn := range watchers {
		fn(d)
	}
}

// diskFull reports whether err is a write refused for want of space: by
// the file system, or by SQLite, which says so in its own words.
func diskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrFull || se.SystemErrno == syscall.ENOSPC || se.SystemErrno == syscall.EDQUOT
	}
	return false
}
