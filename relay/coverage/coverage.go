// Package coverage keeps the duty room's record of what was watched: the
// intervals consoles report of each camera on an officer's screen (in a
// tile or focused), their union per camera, and from these the coverage
// of a period (time watched per site, zone and camera, time since last
// watched, the zone policy met or not, key moments watched or missed) and
// the audit trail of who watched which camera when. Plain Go over the
// relay's SQLite, where it owns watch_intervals, watch_spans and
// watch_consoles (relay/store's migration 0011); relay/api and the relay
// command's "coverage" subcommand are its adapters. The relay's clock is
// the record: a console's times are shifted by its measured skew.
package coverage

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/shifts"
	"github.com/qianliyan/qianliyan/relay/store"
)

// Catalogue is the relay's sites and cameras (relay/store).
type Catalogue interface {
	Sites(ctx context.Context) ([]store.Site, error)
	Cameras(ctx context.Context) ([]store.Camera, error)
}

// Policy is what a zone must get each shift.
type Policy struct {
	MaxGap       time.Duration // seen at least this often (0: no limit)
	MinPerShift  time.Duration // on screen at least this long a shift
	OncePerShift bool
}

// MomentDef is a key moment of the sites' days.
type MomentDef struct {
	ID     string
	Name   bilingual.Text
	Times  []int // minutes after midnight, in each site's time zone
	Zones  []string
	Sites  []string // every site when empty
	Window time.Duration
}

// Config is what the coverage store needs.
type Config struct {
	DB         *sql.DB
	Catalogue  Catalogue
	Schedule   *shifts.Schedule
	Policies   map[string]Policy // by zone
	KeyMoments []MomentDef
	Now        func() time.Time
}

// Store is the coverage record.
type Store struct {
	Config
	zones sync.Map // time zone name → *time.Location, loaded once
}

// New returns the coverage store over cfg.DB (relay/store.OpenDatabase).
func New(cfg Config) *Store {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Policies == nil {
		cfg.Policies = map[string]Policy{}
	}
	return &Store{Config: cfg}
}

// location returns the named time zone, the schedule's if it is unknown.
func (s *Store) location(name string) *time.Location {
	if loc, ok := s.zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = s.Schedule.Location()
	}
	s.zones.Store(name, loc)
	return loc
}

// Limits of what a console reports.
const (
	// MaxSkew is the largest clock difference corrected; a console further
	// off is refused (clock_skew) until its clock is set.
	MaxSkew = 12 * time.Hour
	// skewTolerance: a measure this close to the console's last is the
	// same skew (the rest is the request's transit).
	skewTolerance = time.Second
	// MaxInterval is the longest interval a console may report; it cuts
	// longer watches.
	MaxInterval = 12 * time.Hour
	// futureSlack is how far past the relay's now an interval may end.
	futureSlack = 5 * time.Second
	// MaxBatch is the most intervals one batch may carry.
	MaxBatch = 1000
	// lookback bounds "last watched": a camera not watched in it has none.
	lookback = 7 * 24 * time.Hour
	// shiftLike is the longest period evaluated against the policy and
	// the key moments: a shift and then some.
	shiftLike = 36 * time.Hour
)

const dayMillis = int64(24 * time.Hour / time.Millisecond)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func invalid(field, format string, args ...any) error {
	e := fault.New(fault.Unprocessable, "invalid_field", field+": "+format, args...)
	e.Field = field
	return e
}

// cameraKey names a camera.
type cameraKey struct{ site, camera string }

// cameras returns the catalogue's cameras by key, with their zones, and
// the sites' time zones.
func (s *Store) cameras(ctx context.Context) (map[cameraKey]string, []store.Camera, map[string]*time.Location, error) {
	cams, err := s.Catalogue.Cameras(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the cameras: %w", err)
	}
	sites, err := s.Catalogue.Sites(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the sites: %w", err)
	}
	zones := make(map[cameraKey]string, len(cams))
	for _, c := range cams {
		zones[cameraKey{c.Site, c.ID}] = c.Zone
	}
	locs := make(map[string]*time.Location, len(sites))
	for _, st := range sites {
		locs[st.ID] = s.location(st.TimeZone)
	}
	return zones, cams, locs, nil
}
