// Package shifts keeps the duty room's shifts: the schedule (which shift
// an instant falls in), who is on duty (from signing on until handing
// over), the handovers that end duties with a note and a checklist the
// relay suggests, their receipts by the incoming officers, and the
// cameras' state changes a handover reports outages from. Plain Go over
// the relay's SQLite, where it owns duties, handovers, handover_receipts
// and camera_states (relay/store's migration 0010); relay/api is its
// adapter. It reads findings and coverage through their owners.
package shifts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Findings lists findings (relay/findings.Store).
type Findings interface {
	List(ctx context.Context, by auth.Principal, flt findings.Filter) ([]findings.Finding, error)
}

// Coverage reports how a period was watched (relay/coverage.Store).
type Coverage interface {
	ShiftCoverage(ctx context.Context, from, to time.Time) (wire.Coverage, error)
}

// Catalogue lists the cameras (relay/store.Store).
type Catalogue interface {
	Cameras(ctx context.Context) ([]store.Camera, error)
}

// Config is what the shifts need.
type Config struct {
	DB        *sql.DB
	Schedule  *Schedule
	Findings  Findings
	Coverage  Coverage
	Catalogue Catalogue
	// Grace is how far into a shift a handover still closes the one before.
	Grace time.Duration
	Now   func() time.Time
}

// Shifts is the duty room's record.
type Shifts struct {
	Config
}

// New returns the shifts over cfg.DB (relay/store.OpenDatabase).
func New(cfg Config) *Shifts {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Shifts{cfg}
}

// OnDuty reports whether a role is one that goes on duty.
func OnDuty(r auth.Role) bool {
	return r == auth.RoleDuty || r == auth.RoleSupervisor || r == auth.RoleAdmin
}

func forbidden(p auth.Principal) error {
	return fault.New(fault.Forbidden, "forbidden", "a %s does not go on duty", p.Role)
}

func formatTime(t time.Time) string { return sqlitedb.FormatTime(t) }

func parseTime(s string) time.Time {
	t, _ := sqlitedb.ParseTime(s) // written by formatTime
	return t
}

// StartDuty puts p on duty, by how (wire.DutyBySignIn, …), unless they are
// already; it returns their duty and whether it began now.
func (s *Shifts) StartDuty(ctx context.Context, p auth.Principal, how string) (wire.Duty, bool, error) {
	if !OnDuty(p.Role) {
		return wire.Duty{}, false, forbidden(p)
	}
	if d, ok, err := s.duty(ctx, p.Name); err != nil || ok {
		return d, false, err
	}
	res, err := s.DB.ExecContext(ctx, `INSERT INTO duties (user_name, role, started_at, started_by) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, p.Name, string(p.Role), formatTime(s.Now()), how)
	if err != nil {
		return wire.Duty{}, false, fmt.Errorf("starting %s's duty: %w", p.Name, err)
	}
	n, _ := res.RowsAffected()
	d, _, err := s.duty(ctx, p.Name)
	return d, n == 1, err
}

// duty returns user's open duty.
func (s *Shifts) duty(ctx context.Context, user string) (wire.Duty, bool, error) {
	var d wire.Duty
	var since string
	err := s.DB.QueryRowContext(ctx, `SELECT user_name, role, started_at, started_by FROM duties WHERE user_name = ? AND ended_at IS NULL`,
		user).Scan(&d.User, &d.Role, &since, &d.By)
	if errors.Is(err, sql.ErrNoRows) {
		return wire.Duty{}, false, nil
	}
	if err != nil {
		return wire.Duty{}, false, fmt.Errorf("reading %s's duty: %w", user, err)
	}
	d.Since = parseTime(since)
	return d, true, nil
}

// Duties returns who is on duty, longest first.
func (s *Shifts) Duties(ctx context.Context) ([]wire.Duty, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT user_name, role, started_at, started_by FROM duties WHERE ended_at IS NULL ORDER BY started_at, user_name`)
	if err != nil {
		return nil, fmt.Errorf("reading who is on duty: %w", err)
	}
	defer rows.Close()
	out := []wire.Duty{}
	for rows.Next() {
		var d wire.Duty
		var since string
		if err := rows.Scan(&d.User, &d.Role, &since, &d.By); err != nil {
			return nil, fmt.Errorf("reading who is on duty: %w", err)
		}
		d.Since = parseTime(since)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Current returns the shift now, the time left in it and who is on duty.
func (s *Shifts) Current(ctx context.Context, p auth.Principal) (wire.ShiftNow, error) {
	if !OnDuty(p.Role) {
		return wire.ShiftNow{}, forbidden(p)
	}
	now := s.Now()
	sh := s.Schedule.At(now)
	duties, err := s.Duties(ctx)
	if err != nil {
		return wire.ShiftNow{}, err
	}
	out := wire.ShiftNow{Now: now.UTC(), Shift: sh, Next: s.Schedule.After(sh), LeftSeconds: int64(sh.End.Sub(now) / time.Second), OnDuty: duties}
	for i := range duties {
		if duties[i].User == p.Name {
			out.You = &duties[i]
		}
	}
	return out, nil
}

// handedOver returns the shift a handover at now by an officer on duty
// since since closes: the one under way, or within the grace of its start
// the one before, if the officer was on duty then.
func (s *Shifts) handedOver(since, now time.Time) wire.Shift {
	sh := s.Schedule.At(now)
	if now.Sub(sh.Start) < s.Grace && since.Before(sh.Start) {
		return s.Schedule.Before(sh)
	}
	return sh
}
