// Package forward carries the console's findings to the relay and brings
// back what the site makes of them. The Forwarder sends the console store's
// outbox, in order per finding: the finding as flagged and its snapshot,
// its clip, then every later change as an action; and in order per
// checklist run, the run's events. The Consumer follows the
// relay's changes feed and applies it to the console's copies. Both run for
// as long as a sign-in lasts, with its token.
//
// Each finding is bound to the relay it was flagged under, and only that
// relay is sent its changes or may change it: a console signed in to
// another relay (a training one, a neighbouring city's) keeps them waiting
// for a sign-in to theirs. Each relay's changes cursor is kept apart.
package forward

import (
	"context"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Relay is the signed-in relay's findings API; *relayclient.Client is it.
// Its calls renew a refused token once, and fail with
// relayclient.ErrSessionExpired when the relay refuses that too; the
// relay's error answers are *relayclient.Error.
type Relay interface {
	BaseURL() string
	FileFinding(ctx context.Context, d wire.Draft) (wire.Finding, bool, error)
	PutEvidence(ctx context.Context, findingID string, u relayclient.Upload) (wire.File, bool, error)
	Act(ctx context.Context, findingID string, a wire.ActionRequest) (wire.Finding, error)
	Finding(ctx context.Context, id string) (wire.Finding, error)
	Changes(ctx context.Context, after int64, wait time.Duration) (wire.Changes, error)
	FileRunEvent(ctx context.Context, runID string, ev wire.RunEvent) (wire.Run, bool, error)
	// ListFindings and PutRecheck serve the duty room's shared record
	// (shared.go).
	ListFindings(ctx context.Context, closedSince time.Time) ([]wire.Finding, error)
	PutRecheck(ctx context.Context, findingID, actionID string, u relayclient.Upload) (wire.File, bool, error)
	// PostWatches sends watch intervals (watch.go).
	PostWatches(ctx context.Context, b wire.WatchBatch) (wire.WatchBatchResult, error)
}
