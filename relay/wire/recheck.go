package wire

import "strconv"

// A re-check's evidence (issue 11 §1): the console uploads the snapshot of
// the frame the officer re-checked on with PUT
// /api/v1/findings/{id}/evidence/recheck?action_id=ACTION, after the verify
// or reopen of that action id. The relay lists it in Evidence.Rechecks as
// recheck-CURSOR, CURSOR being the verify's or reopen's event.
const (
	EvidenceRecheck = "recheck"
	// QueryActionID names the action a re-check's evidence documents.
	QueryActionID = "action_id"
)

// RecheckName is the evidence name of the re-check made by the event at
// cursor.
func RecheckName(cursor int64) string { return EvidenceRecheck + "-" + strconv.FormatInt(cursor, 10) }
