package forward

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// actionID is the relay action id of an outbox entry's change: the one a
// change of a copy was given when made, else the one the finding's
// revision makes.
func (f *Forwarder) actionID(ctx context.Context, e store.OutboxEntry) (string, error) {
	if e.EventID != 0 {
		aid, err := f.opts.Store.ActionIDOf(ctx, e.EventID)
		if err != nil {
			return "", fmt.Errorf("%w: %w", errRefused, err)
		}
		if aid != "" {
			return aid, nil
		}
	}
	return ActionID(e.FindingID, e.Revision), nil
}

// sendRecheck sends the snapshot of a re-check, after the verify or reopen
// it documents (the entry before it of the same finding), for the relay
// to attach to that change.
func (f *Forwarder) sendRecheck(ctx context.Context, e store.OutboxEntry) error {
	ev, err := f.opts.Store.RecheckEvidence(ctx, e.EventID)
	if err != nil {
		return fmt.Errorf("%w: %w", errRefused, err)
	}
	aid, err := f.actionID(ctx, e)
	if err != nil {
		return err
	}
	path, err := f.opts.Store.EvidencePath(ev.File)
	if err != nil {
		return fmt.Errorf("%w: the re-check snapshot of %s: %w", errRefused, e.FindingID, err)
	}
	open := func() (io.ReadCloser, int64, error) {
		fh, err := os.Open(path)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: opening the re-check snapshot of %s: %w", errRefused, e.FindingID, err)
		}
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			return nil, 0, fmt.Errorf("opening the re-check snapshot of %s: %w", e.FindingID, err)
		}
		return fh, st.Size(), nil
	}
	_, _, err = f.opts.Relay.PutRecheck(ctx, e.FindingID, aid, relayclient.Upload{
		Kind: wire.EvidenceRecheck, ContentType: "image/jpeg", SHA256: ev.SHA256, Open: open})
	return err
}

// sendRecheckClip sends the clip of a re-check once it is filed, after the
// verify or reopen it documents, for the relay to attach to that change as
// it does the re-check's snapshot.
func (f *Forwarder) sendRecheckClip(ctx context.Context, e store.OutboxEntry) error {
	rc, err := f.opts.Store.RecheckClipOf(ctx, e.EventID)
	if err != nil {
		return fmt.Errorf("%w: %w", errRefused, err)
	}
	switch {
	case rc.State == "recording":
		return errNotYet
	case rc.File == "":
		return nil // cut short before its first frame: nothing to send
	}
	// The action id of the re-check's own revision, whatever the finding's
	// is by now.
	e.Revision = rc.Revision
	aid, err := f.actionID(ctx, e)
	if err != nil {
		return err
	}
	path, err := f.opts.Store.EvidencePath(rc.File)
	if err != nil {
		return fmt.Errorf("%w: the re-check clip of %s: %w", errRefused, e.FindingID, err)
	}
	open := func() (io.ReadCloser, int64, error) {
		fh, err := os.Open(path)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: opening the re-check clip of %s: %w", errRefused, e.FindingID, err)
		}
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			return nil, 0, fmt.Errorf("opening the re-check clip of %s: %w", e.FindingID, err)
		}
		return fh, st.Size(), nil
	}
	_, _, err = f.opts.Relay.PutRecheck(ctx, e.FindingID, aid, relayclient.Upload{
		Kind: wire.EvidenceRecheckClip, ContentType: "video/mp4", SHA256: rc.SHA256, Open: open})
	return err
}

// relayFinding is what the store keeps of a finding the relay reports.
func relayFinding(f wire.Finding) store.RelayFinding {
	rf := store.RelayFinding{
		ID: f.ID, Site: f.Site, Camera: f.Camera, Zone: f.Zone, TemplateID: f.TemplateID, TemplateVersion: f.TemplateVersion,
		Step: f.Step, Deviation: f.Deviation, DeviationText: f.DeviationText, DeviationTitle: f.DeviationTitle,
		Severity: f.Severity, Note: f.Note, Observer: f.Observer, ObservedAt: f.ObservedAt, FlaggedAt: f.FlaggedAt,
		Deadline: f.Deadline, UpdatedAt: f.UpdatedAt, Status: string(f.Status),
	}
	files := append([]wire.File{}, f.Evidence.Photos...)
	files = append(files, f.Evidence.Rechecks...)
	files = append(files, f.Evidence.RecheckClips...)
	for _, p := range []*wire.File{f.Evidence.Snapshot, f.Evidence.Clip} {
		if p != nil {
			files = append(files, *p)
		}
	}
	for _, w := range files {
		rf.Files = append(rf.Files, store.RelayFile{Name: w.Name, SHA256: w.SHA256, Bytes: w.Bytes, ContentType: w.ContentType, AddedAt: w.AddedAt})
	}
	for _, ev := range f.Events {
		rf.Events = append(rf.Events, store.RelayChange{Cursor: ev.Cursor, FindingID: f.ID,
			Event: store.RelayEvent{At: ev.At, Actor: ev.Actor, Role: ev.Role, Action: ev.Action, Detail: ev.Detail}})
	}
	return rf
}

// BackfillClosed is how far back a first listing copies closed findings:
// the console's lists show the open ones, the re-check queue and the last
// shifts' work, and at a duty room's months of record every closed
// finding would be tens of megabytes the console never shows (issue 13's
// 10,000-finding relay answered over the client's 8 MiB). A closed
// finding older than this comes if it changes again.
const BackfillClosed = 7 * 24 * time.Hour

// backfill keeps a copy of every finding the relay lists, once per relay:
// a console signing in to it for the first time (or first since it kept
// copies) sees what exists, not only what changes from now on. The open
// ones are read whole, for their history; the closed ones' history comes
// if they change again.
func (c *Consumer) backfill(ctx context.Context, relay string) error {
	done, err := c.opts.Store.Backfilled(ctx, relay)
	if err != nil || done {
		return err
	}
	list, err := c.opts.Relay.ListFindings(ctx, c.opts.Now().Add(-BackfillClosed))
	if err != nil {
		return err
	}
	have, err := c.opts.Store.Has(ctx, ids(list))
	if err != nil {
		return err
	}
	found := make([]store.RelayFinding, 0, len(list))
	for _, f := range list {
		if !have[f.ID] && !f.Status.Closed() && len(f.Events) == 0 {
			if whole, err := c.opts.Relay.Finding(ctx, f.ID); err == nil {
				f = whole
			} else if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		found = append(found, relayFinding(f))
	}
	changed, err := c.opts.Store.Backfill(ctx, relay, found)
	if err != nil {
		return fmt.Errorf("keeping the relay's findings: %w", err)
	}
	c.log.Info().Int("findings", len(list)).Int("kept", len(changed)).Msg("listed the relay's findings")
	if len(changed) > 0 && c.opts.OnChange != nil {
		c.opts.OnChange(changed)
	}
	return nil
}

func ids(list []wire.Finding) []string {
	out := make([]string, len(list))
	for i, f := range list {
		out[i] = f.ID
	}
	return out
}

// found is the findings a poll's changes carry, each once as it is now,
// read whole (with its history) when the store does not have it yet.
func (c *Consumer) found(ctx context.Context, changes []wire.Change) ([]store.RelayFinding, error) {
	latest := map[string]wire.Finding{}
	var order []string
	for _, ch := range changes {
		if _, ok := latest[ch.Finding.ID]; !ok {
			order = append(order, ch.Finding.ID)
		}
		latest[ch.Finding.ID] = ch.Finding
	}
	have, err := c.opts.Store.Has(ctx, order)
	if err != nil {
		return nil, err
	}
	out := make([]store.RelayFinding, 0, len(order))
	for _, id := range order {
		f := latest[id]
		if !have[id] {
			whole, err := c.opts.Relay.Finding(ctx, id)
			switch {
			case err == nil:
				f = whole
			case relayclient.Permanent(err):
				// Refused for good (gone, say): the copy is kept as the
				// change has it, its history from here on, rather than
				// the feed held up for ever.
				c.log.Warn().Err(err).Str("finding", id).Msg("reading a finding's history at the relay")
			default:
				return nil, err
			}
		}
		out = append(out, relayFinding(f))
	}
	return out, nil
}
