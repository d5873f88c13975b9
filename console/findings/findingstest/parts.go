package findingstest

import (
	"context"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/evidence"
	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/mediatest"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// KnownCameras lists the relay's cameras afresh: New's rig has no event
// stream to keep a list by, and its relay is on loopback. NewWith's rig
// holds its list as the console's session does.
func (s session) KnownCameras() []relayclient.Camera {
	cams, err := s.rc.Cameras(context.Background())
	if err != nil {
		return nil
	}
	return cams
}

// RelayEvidence fetches a finding's evidence file from the relay, as the
// console's session does for the files the relay lists.
func (s session) RelayEvidence(ctx context.Context, findingID, name, sum string) ([]byte, error) {
	return s.rc.EvidenceFile(ctx, findingID, name, sum)
}

// Parts change what a rig is built from, for the tests of the faults
// around the core: where its data lives and how it reaches the relay.
type Parts struct {
	// DataDir is the console's data folder (a small file system, say);
	// "" is a fresh temporary folder.
	DataDir string
	// Via is the address the console signs in at and pulls from, given
	// the relay's own (a proxy in front of it); nil is the relay's.
	Via func(relayURL string) string
	// Clips, when set, is given the rig's clip recorder, for a test that
	// waits on its clips.
	Clips func(*evidence.Recorder)
}

// heldSession is the sign-in as the console's session keeps it: the
// camera list the relay gave at sign-in, held, never fetched on a flag.
type heldSession struct {
	rc   *relayclient.Client
	user string

	mu   sync.Mutex
	cams []relayclient.Camera
}

func (s *heldSession) KnownCameras() []relayclient.Camera {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cams
}

func (s *heldSession) Observer(context.Context) (string, string, error) {
	return s.user, s.rc.BaseURL(), nil
}

// NewWith starts a rig, as New does, from parts: signed in (as User) and
// pulling through p.Via, with its store in p.DataDir.
func NewWith(t testing.TB, o Options, p Parts) *Rig {
	t.Helper()
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{Doff1.Site + "/" + Doff1.Camera}})
	creds := relay.Demo()
	url := relay.URL()
	if p.Via != nil {
		url = p.Via(url)
	}
	rc := relayclienttest.SignedIn(t, url, creds.User, creds.Password)
	cams, err := rc.Cameras(context.Background())
	if err != nil {
		t.Fatalf("listing the relay's cameras at sign-in: %v", err)
	}
	buffers := evidence.NewBuffers(ClipBefore+evidence.KeepMargin, evidence.MaxBufferBytes, nil)
	sources := mediatest.Sources(t, rc, media.Options{Tap: buffers.Tap, Log: zerolog.Nop()})
	dataDir := p.DataDir
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	st, err := store.Open(context.Background(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	rec := evidence.NewRecorder(context.Background(), evidence.RecorderOptions{
		Sources: sources, Buffers: buffers, Store: st, Before: ClipBefore, After: ClipAfter, Log: log,
	})
	t.Cleanup(rec.Close)
	if p.Clips != nil {
		p.Clips(rec)
	}
	core := findings.New(findings.Options{
		Store: st, Console: &heldSession{rc: rc, user: User, cams: cams}, Frames: buffers, Clips: rec,
		Templates: o.Templates, Now: o.Now, MaxSnapshotBytes: o.MaxSnapshotBytes, Log: log,
	})
	return &Rig{Relay: relay, Sources: sources, Buffers: buffers, Store: st, DataDir: dataDir, Findings: core}
}
