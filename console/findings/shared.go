package findings

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// RelayFiles fetches a finding's evidence file from the signed-in relay,
// with the session's token, checked against its SHA-256; the console's
// relay session does (the view never holds a relay token).
type RelayFiles interface {
	RelayEvidence(ctx context.Context, findingID, name, sha256 string) ([]byte, error)
}

// sharedEvidence finds an evidence file that is not a flag's own snapshot
// or clip: a re-check's snapshot, or a file the relay lists for a finding
// (a copy's snapshot and clip, the site's photos, another console's
// re-check), fetched from the relay the first time and kept by its hash.
func (s *Service) sharedEvidence(ctx context.Context, name string) (store.Evidence, error) {
	ev, err := s.opts.Store.RecheckEvidenceFile(ctx, name)
	if !errors.Is(err, store.ErrNotFound) {
		return ev, err
	}
	id, rf, err := s.opts.Store.RelayFileOf(ctx, name)
	if err != nil {
		return store.Evidence{}, err
	}
	ev = store.Evidence{Kind: rf.Name, State: "complete", File: rf.File, SHA256: rf.SHA256, Bytes: rf.Bytes}
	path, err := s.opts.Store.EvidencePath(rf.File)
	if err != nil {
		return store.Evidence{}, err
	}
	if _, err := os.Stat(path); err == nil {
		return ev, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return store.Evidence{}, fmt.Errorf("reading evidence file %s: %w", rf.File, err)
	}
	relay, ok := s.opts.Console.(RelayFiles)
	if !ok {
		return store.Evidence{}, fault.New(fault.Unavailable, "evidence_at_relay", "the %s of finding %s is at the relay, which this console cannot reach", rf.Name, id)
	}
	data, err := relay.RelayEvidence(ctx, id, rf.Name, rf.SHA256)
	if err != nil {
		// Signed out or the relay out of reach alike: the file is there,
		// not here yet.
		return store.Evidence{}, fault.New(fault.Unavailable, "evidence_at_relay",
			"the %s of finding %s is at the relay and could not be fetched: %v", rf.Name, id, err)
	}
	if err := s.opts.Store.KeepRelayFile(rf, data); err != nil {
		return store.Evidence{}, err
	}
	return ev, nil
}

// Freshness says how current the relay's findings in the list are: as of
// when the relay's changes feed last answered, and whether it does now. A
// console signed out reaches no relay; its list is that of the relay last
// signed in to.
func (s *Service) Freshness(ctx context.Context) (store.Freshness, error) {
	_, relay, err := s.signedIn(ctx)
	if err == nil {
		return s.opts.Store.Freshness(ctx, relay)
	}
	last, _, serr := s.opts.Store.Setting(ctx, store.SettingRelay)
	if serr != nil {
		return store.Freshness{}, serr
	}
	fr, ferr := s.opts.Store.Freshness(ctx, last)
	fr.Reachable = false
	return fr, ferr
}
