package wire

import "strconv"

// A re-check's evidence (issue 11 §1): the console uploads the snapshot of
// the frame the officer re-checked on with PUT
// /api/v1/findings/{id}/evidence/recheck?action_id=ACTION, after the verify
// or reopen of that action id. The relay lists it in Evidence.Rechecks as
// recheck-CURSOR, CURSOR being the verify's or reopen's event.
//
// The clip around the re-check goes the same way, kind recheck_clip (PUT
// /api/v1/findings/{id}/evidence/recheck_clip?action_id=ACTION, an fMP4
// as a finding's clip is), listed in Evidence.RecheckClips as
// recheck_clip-CURSOR: one of each a re-check, so a finding re-checked
// twice keeps both.
const (
	EvidenceRecheck     = "recheck"
	EvidenceRecheckClip = "recheck_clip"
	// QueryActionID names the action a re-check's evidence documents.
	QueryActionID = "action_id"
)

// RecheckName is the evidence name of the re-check made by the event at
// cursor.
func RecheckName(cursor int64) string { return EvidenceRecheck + "-" + strconv.FormatInt(cursor, 10) }

// RecheckClipName is the evidence name of the clip of the re-check made
// by the event at cursor.
func RecheckClipName(cursor int64) string {
	return EvidenceRecheckClip + "-" + strconv.FormatInt(cursor, 10)
}
