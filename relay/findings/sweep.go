package findings

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// SweepAge is how old an unreferenced evidence file must be before a sweep
// removes it. An upload writes its file before the transaction that refers
// to it commits; an hour leaves any upload in flight alone.
const SweepAge = time.Hour

// Sweep removes evidence files no finding refers to any more (a snapshot or
// clip replaced by another, an upload refused after its file was written)
// and leftovers of uploads cut short, once they are older than minAge. It
// returns how many files it removed.
func (s *Store) Sweep(ctx context.Context, minAge time.Duration) (int, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("sweeping evidence: %w", err)
	}
	cutoff := s.now().Add(-minAge)
	removed := 0
	for _, e := range entries {
		if ctx.Err() != nil {
			return removed, ctx.Err()
		}
		name := e.Name()
		upload := strings.HasPrefix(name, ".upload-")
		if !e.Type().IsRegular() || (!upload && !isSHA256(name)) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return removed, fmt.Errorf("sweeping evidence: %w", err)
		}
		if !info.ModTime().Before(cutoff) {
			continue
		}
		if !upload {
			var one int
			err := s.db.QueryRowContext(ctx, `SELECT 1 FROM finding_evidence WHERE sha256 = ? LIMIT 1`, name).Scan(&one)
			if err == nil {
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return removed, fmt.Errorf("sweeping evidence: %w", err)
			}
		}
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("sweeping evidence: %w", err)
		}
		removed++
	}
	return removed, nil
}

// Dir is the folder of the evidence files, each named by its SHA-256.
func (s *Store) Dir() string { return s.dir }

// RunSweeper sweeps at once and then every interval until ctx ends.
func (s *Store) RunSweeper(ctx context.Context, interval time.Duration, log zerolog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.Sweep(ctx, SweepAge)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn().Err(err).Msg("sweeping evidence files")
		case n > 0:
			log.Info().Int("removed", n).Msg("removed evidence files no finding refers to")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func isSHA256(name string) bool {
	if len(name) != 64 {
		return false
	}
	for _, c := range name {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
