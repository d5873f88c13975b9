// Package testlog collects, for a test, what the code under test logs from
// its own goroutines, so that the test can read it while it is written.
package testlog

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer safe to write from many goroutines and to read
// meanwhile. The zero value is empty and ready.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what has been written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
