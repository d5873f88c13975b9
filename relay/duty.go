package relay

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/qianliyan/qianliyan/relay/config"
	"github.com/qianliyan/qianliyan/relay/coverage"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/shifts"
	"github.com/qianliyan/qianliyan/relay/store"
)

// dutyRoom builds the shifts and the coverage record from the
// configuration's shifts and coverage sections (checked by config).
func dutyRoom(cfg *config.Config, db *sql.DB, st *store.Store, finds *findings.Store, now func() time.Time) (*shifts.Shifts, *coverage.Store, error) {
	sched, err := schedule(cfg)
	if err != nil {
		return nil, nil, err
	}
	policies := map[string]coverage.Policy{}
	for _, p := range cfg.Coverage.Policies {
		for _, z := range p.Zones {
			policies[z] = coverage.Policy{MaxGap: p.MaxGap.D(), MinPerShift: p.MinPerShift.D(), OncePerShift: p.OncePerShift}
		}
	}
	moments := make([]coverage.MomentDef, len(cfg.Coverage.KeyMoments))
	for i, m := range cfg.Coverage.KeyMoments {
		moments[i] = coverage.MomentDef{ID: m.ID, Name: m.Name, Zones: m.Zones, Sites: m.Sites, Window: m.Window.D()}
		for _, t := range m.Times {
			min, err := config.ClockMinutes(t)
			if err != nil {
				return nil, nil, fmt.Errorf("key moment %s: %w", m.ID, err)
			}
			moments[i].Times = append(moments[i].Times, min)
		}
	}
	cov := coverage.New(coverage.Config{DB: db, Catalogue: st, Schedule: sched, Policies: policies, KeyMoments: moments, Now: now})
	sh := shifts.New(shifts.Config{DB: db, Schedule: sched, Findings: finds, Coverage: cov, Catalogue: st,
		Grace: cfg.Shifts.HandoverGrace.D(), Now: now})
	return sh, cov, nil
}

// schedule is the duty room's shifts from the configuration's shifts
// section (checked by config).
func schedule(cfg *config.Config) (*shifts.Schedule, error) {
	loc, err := time.LoadLocation(cfg.Shifts.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("shifts: %w", err)
	}
	defs := make([]shifts.Def, len(cfg.Shifts.Schedule))
	for i, d := range cfg.Shifts.Schedule {
		start, err := config.ClockMinutes(d.Start)
		if err != nil {
			return nil, fmt.Errorf("shift %s: %w", d.ID, err)
		}
		defs[i] = shifts.Def{ID: d.ID, Start: start, Name: d.Name}
	}
	return shifts.NewSchedule(loc, defs)
}
