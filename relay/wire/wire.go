// Package wire declares the JSON bodies of the relay's HTTP API that its
// clients send and read, once for both sides: relay/api decodes them, the
// console's relayclient encodes them, and a contract test runs the one
// against the other. It holds types only, so a client imports no server
// code. docs/PROTOCOLS.md describes the calls.
package wire

import "time"

// Draft is a finding as a console files it (PUT /api/v1/findings/{id}): the
// fields that are the console's to say. The relay keeps status, revision
// and evidence itself.
type Draft struct {
	ID              string    `json:"id"`
	Site            string    `json:"site"`
	Camera          string    `json:"camera"`
	Zone            string    `json:"zone"`
	TemplateID      string    `json:"template_id"`
	TemplateVersion int       `json:"template_version"`
	Step            string    `json:"step"`
	Deviation       string    `json:"deviation"`
	DeviationText   string    `json:"deviation_text"`
	Severity        string    `json:"severity"`
	Note            string    `json:"note"`
	Observer        string    `json:"observer"`
	ObservedAt      time.Time `json:"observed_at"`
	FlaggedAt       time.Time `json:"flagged_at"`
	Deadline        time.Time `json:"deadline"`
}
