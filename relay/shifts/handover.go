package shifts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/wire"
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)

// maxNote bounds a handover note.
const maxNote = 8000

// checklistKeys are the items the relay suggests, in order.
var checklistKeys = []string{wire.ItemFlagged, wire.ItemRecheck, wire.ItemOverdue, wire.ItemCamerasDown, wire.ItemUnderwatched}

// state is what a shift leaves: its findings, cameras and coverage.
type state struct {
	flagged, recheck, overdue []findings.Finding
	cameras                   []wire.CameraDown
	coverage                  wire.Coverage
}

// gather reads what shift sh leaves at now.
func (s *Shifts) gather(ctx context.Context, p auth.Principal, sh wire.Shift, now time.Time) (state, error) {
	// A finding closed before the shift began was neither flagged in it
	// nor awaits anything.
	all, err := s.Findings.List(ctx, p, findings.Filter{ClosedSince: sh.Start})
	if err != nil {
		return state{}, err
	}
	var st state
	for _, f := range all {
		if !f.FlaggedAt.Before(sh.Start) && f.FlaggedAt.Before(sh.End) {
			st.flagged = append(st.flagged, f)
		}
		if f.Status == findings.StatusRectified {
			st.recheck = append(st.recheck, f)
		}
		if f.Overdue {
			st.overdue = append(st.overdue, f)
		}
	}
	end := sh.End
	if now.Before(end) {
		end = now
	}
	if st.cameras, err = s.CamerasDown(ctx, sh.Start, end); err != nil {
		return state{}, err
	}
	if end.After(sh.Start) {
		if st.coverage, err = s.Coverage.ShiftCoverage(ctx, sh.Start, end); err != nil {
			return state{}, err
		}
	}
	return st, nil
}

// checklist is what the relay suggests passing on from st.
func (st state) checklist() []wire.ChecklistItem {
	items := make([]wire.ChecklistItem, len(checklistKeys))
	for i, k := range checklistKeys {
		items[i] = wire.ChecklistItem{Key: k, Refs: []string{}}
	}
	for _, f := range st.flagged {
		if !f.Status.Closed() {
			items[0].Refs = append(items[0].Refs, f.ID)
		}
	}
	for _, f := range st.recheck {
		items[1].Refs = append(items[1].Refs, f.ID)
	}
	for _, f := range st.overdue {
		items[2].Refs = append(items[2].Refs, f.ID)
	}
	for _, c := range st.cameras {
		items[3].Refs = append(items[3].Refs, c.Site+"/"+c.Camera)
	}
	for _, sc := range underwatched(st.coverage) {
		items[4].Refs = append(items[4].Refs, sc.Site)
	}
	for i := range items {
		items[i].Count = len(items[i].Refs)
	}
	return items
}

// underwatched returns the sites whose policy the coverage does not meet.
func underwatched(c wire.Coverage) []wire.SiteCoverage {
	out := []wire.SiteCoverage{}
	for _, sc := range c.Sites {
		if sc.PolicyMet != nil && !*sc.PolicyMet {
			out = append(out, sc)
		}
	}
	return out
}

// Draft returns the shift p would hand over now and the suggested checklist.
func (s *Shifts) Draft(ctx context.Context, p auth.Principal) (wire.HandoverDraft, error) {
	if !OnDuty(p.Role) {
		return wire.HandoverDraft{}, forbidden(p)
	}
	now := s.Now()
	since := now
	if d, ok, err := s.duty(ctx, p.Name); err != nil {
		return wire.HandoverDraft{}, err
	} else if ok {
		since = d.Since
	}
	sh := s.handedOver(since, now)
	st, err := s.gather(ctx, p, sh, now)
	if err != nil {
		return wire.HandoverDraft{}, err
	}
	return wire.HandoverDraft{Shift: sh, Checklist: st.checklist()}, nil
}

// Handover ends p's duty with a note: it records the note, the suggested
// checklist with p's ticks, and the shift's coverage as it stands. The same
// request again answers the handover made (created false); the same id with
// another request is a conflict.
func (s *Shifts) Handover(ctx context.Context, p auth.Principal, req wire.HandoverRequest) (wire.Handover, bool, error) {
	if !OnDuty(p.Role) {
		return wire.Handover{}, false, forbidden(p)
	}
	if !idPattern.MatchString(req.ID) {
		return wire.Handover{}, false, fault.Field("id", "%q: want letters, digits, '-', '_', '.', ':' (up to 128)", req.ID)
	}
	if len(req.Note) > maxNote {
		return wire.Handover{}, false, fault.Field("note", "over %d bytes", maxNote)
	}
	for i, m := range req.Checklist {
		if !slices.Contains(checklistKeys, m.Key) {
			return wire.Handover{}, false, fault.Field(fmt.Sprintf("checklist[%d].key", i), "%q is not one of %v", m.Key, checklistKeys)
		}
	}
	content, _ := json.Marshal(struct {
		By  string
		Req wire.HandoverRequest
	}{p.Name, req})
	var prev string
	err := s.DB.QueryRowContext(ctx, `SELECT content FROM handovers WHERE id = ?`, req.ID).Scan(&prev)
	switch {
	case err == nil && prev == string(content):
		h, err := s.handover(ctx, req.ID)
		return h, false, err
	case err == nil:
		return wire.Handover{}, false, fault.New(fault.Conflict, "conflict", "handover %s was made before with another note or by another officer", req.ID)
	case !errors.Is(err, sql.ErrNoRows):
		return wire.Handover{}, false, fmt.Errorf("looking up handover %s: %w", req.ID, err)
	}
	duty, ok, err := s.duty(ctx, p.Name)
	if err != nil {
		return wire.Handover{}, false, err
	}
	if !ok {
		return wire.Handover{}, false, fault.New(fault.Conflict, "not_on_duty", "%s is not on duty: there is nothing to hand over", p.Name)
	}
	now := s.Now()
	sh := s.handedOver(duty.Since, now)
	st, err := s.gather(ctx, p, sh, now)
	if err != nil {
		return wire.Handover{}, false, err
	}
	items := st.checklist()
	for _, m := range req.Checklist {
		items[slices.Index(checklistKeys, m.Key)].Checked = m.Checked
	}
	checklist, _ := json.Marshal(items)
	cov := []byte("null")
	if st.coverage.Sites != nil {
		cov, _ = json.Marshal(st.coverage)
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return wire.Handover{}, false, fmt.Errorf("recording %s's handover: %w", p.Name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO handovers (id, shift_id, shift_start, shift_end, by_user, at, duty_since, note, checklist, coverage, content)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, req.ID, sh.ID, formatTime(sh.Start), formatTime(sh.End), p.Name, formatTime(now),
		formatTime(duty.Since), req.Note, string(checklist), string(cov), string(content)); err != nil {
		return wire.Handover{}, false, fmt.Errorf("recording %s's handover: %w", p.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE duties SET ended_at = ?, handover_id = ? WHERE user_name = ? AND ended_at IS NULL`,
		formatTime(now), req.ID, p.Name); err != nil {
		return wire.Handover{}, false, fmt.Errorf("ending %s's duty: %w", p.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return wire.Handover{}, false, fmt.Errorf("recording %s's handover: %w", p.Name, err)
	}
	h, err := s.handover(ctx, req.ID)
	return h, true, err
}

const handoverColumns = `id, shift_id, shift_start, shift_end, by_user, at, duty_since, note, checklist, coverage`

type scanner interface{ Scan(dest ...any) error }

func (s *Shifts) scanHandover(ctx context.Context, row scanner) (wire.Handover, error) {
	var h wire.Handover
	var start, end, at, since, checklist, cov string
	if err := row.Scan(&h.ID, &h.Shift.ID, &start, &end, &h.By, &at, &since, &h.Note, &checklist, &cov); err != nil {
		return wire.Handover{}, err
	}
	h.Shift.Start, h.Shift.End, h.At, h.DutySince = parseTime(start), parseTime(end), parseTime(at), parseTime(since)
	sh := s.Schedule.At(h.Shift.Start)
	h.Shift.Name = sh.Name
	loc := s.Schedule.Location()
	h.Shift.Start, h.Shift.End = h.Shift.Start.In(loc), h.Shift.End.In(loc)
	if err := json.Unmarshal([]byte(checklist), &h.Checklist); err != nil {
		return wire.Handover{}, fmt.Errorf("reading handover %s's checklist: %w", h.ID, err)
	}
	if cov != "null" {
		h.Coverage = new(wire.Coverage)
		if err := json.Unmarshal([]byte(cov), h.Coverage); err != nil {
			return wire.Handover{}, fmt.Errorf("reading handover %s's coverage: %w", h.ID, err)
		}
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT user_name, at FROM handover_receipts WHERE handover_id = ? ORDER BY at, user_name`, h.ID)
	if err != nil {
		return wire.Handover{}, fmt.Errorf("reading handover %s's receipts: %w", h.ID, err)
	}
	defer rows.Close()
	h.Receipts = []wire.Receipt{}
	for rows.Next() {
		var r wire.Receipt
		var at string
		if err := rows.Scan(&r.By, &at); err != nil {
			return wire.Handover{}, fmt.Errorf("reading handover %s's receipts: %w", h.ID, err)
		}
		r.At = parseTime(at)
		h.Receipts = append(h.Receipts, r)
	}
	return h, rows.Err()
}

func (s *Shifts) handover(ctx context.Context, id string) (wire.Handover, error) {
	h, err := s.scanHandover(ctx, s.DB.QueryRowContext(ctx, `SELECT `+handoverColumns+` FROM handovers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return wire.Handover{}, fault.New(fault.NotFound, "unknown_handover", "no handover %s", id)
	}
	return h, err
}

// View returns what the incoming officer sees: the last handed-over
// shift's handovers, the findings flagged in it, what awaits re-check and
// what is overdue now, the cameras down now or during it, and the sites it
// watched less than the policy asks (from the coverage its last handover
// kept).
func (s *Shifts) View(ctx context.Context, p auth.Principal) (wire.HandoverView, error) {
	if !OnDuty(p.Role) {
		return wire.HandoverView{}, forbidden(p)
	}
	now := s.Now()
	out := wire.HandoverView{Now: now.UTC(), Handovers: []wire.Handover{}, Flagged: []findings.Finding{}, AwaitingRecheck: []findings.Finding{},
		Overdue: []findings.Finding{}, Cameras: []wire.CameraDown{}, Underwatched: []wire.SiteCoverage{}}
	var start string
	err := s.DB.QueryRowContext(ctx, `SELECT shift_start FROM handovers ORDER BY at DESC, id DESC LIMIT 1`).Scan(&start)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return wire.HandoverView{}, fmt.Errorf("reading the last handover: %w", err)
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT `+handoverColumns+` FROM handovers WHERE shift_start = ? ORDER BY at, id`, start)
	if err != nil {
		return wire.HandoverView{}, fmt.Errorf("reading the last shift's handovers: %w", err)
	}
	for rows.Next() {
		h, err := s.scanHandover(ctx, rows)
		if err != nil {
			rows.Close()
			return wire.HandoverView{}, err
		}
		out.Handovers = append(out.Handovers, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wire.HandoverView{}, err
	}
	last := out.Handovers[len(out.Handovers)-1]
	sh := last.Shift
	out.Shift = &sh
	// The shift as handed over: up to its last handover if it came early.
	st, err := s.gather(ctx, p, sh, now)
	if err != nil {
		return wire.HandoverView{}, err
	}
	out.Flagged, out.AwaitingRecheck, out.Overdue, out.Cameras = nonNil(st.flagged), nonNil(st.recheck), nonNil(st.overdue), st.cameras
	if last.Coverage != nil {
		out.Underwatched = underwatched(*last.Coverage)
	}
	out.Received = true
	for _, h := range out.Handovers {
		out.Received = out.Received && slices.ContainsFunc(h.Receipts, func(r wire.Receipt) bool { return r.By == p.Name })
	}
	return out, nil
}

func nonNil(f []findings.Finding) []findings.Finding {
	if f == nil {
		return []findings.Finding{}
	}
	return f
}

// Confirm records that p read handover id, and puts p on duty (by
// receipt) if they are not. A second confirmation changes nothing.
func (s *Shifts) Confirm(ctx context.Context, p auth.Principal, id string) (wire.Handover, error) {
	if !OnDuty(p.Role) {
		return wire.Handover{}, forbidden(p)
	}
	if _, err := s.handover(ctx, id); err != nil {
		return wire.Handover{}, err
	}
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO handover_receipts (handover_id, user_name, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		id, p.Name, formatTime(s.Now())); err != nil {
		return wire.Handover{}, fmt.Errorf("recording %s's receipt of handover %s: %w", p.Name, id, err)
	}
	if _, _, err := s.StartDuty(ctx, p, wire.DutyByReceipt); err != nil {
		return wire.Handover{}, err
	}
	return s.handover(ctx, id)
}
