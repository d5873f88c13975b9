package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// Shifts is the duty room's shift schedule: each shift runs from its start
// to the next one's, round the clock, in TimeZone.
type Shifts struct {
	TimeZone string     `yaml:"time_zone"`
	Schedule []ShiftDef `yaml:"schedule"`
	// HandoverGrace is how far into a shift a handover still closes the
	// shift before it, for an officer who signed on in that earlier shift
	// and hands over a little late.
	HandoverGrace Duration `yaml:"handover_grace"`
}

// ShiftDef is one shift of the day.
type ShiftDef struct {
	ID    string         `yaml:"id"`
	Start string         `yaml:"start"` // "HH:MM"
	Name  bilingual.Text `yaml:"name"`
	Line  int            `yaml:"-"`
}

// UnmarshalYAML records where the shift is declared.
func (s *ShiftDef) UnmarshalYAML(n *yaml.Node) error {
	type plain ShiftDef
	s.Line = n.Line
	return n.Decode((*plain)(s))
}

// Coverage is what the duty room must watch: per zone, how often and how
// long each shift, and the key moments of a site's day.
type Coverage struct {
	Policies   []ZonePolicy `yaml:"policies"`
	KeyMoments []KeyMoment  `yaml:"key_moments"`
}

// ZonePolicy applies to every site's cameras of the zones listed.
type ZonePolicy struct {
	Zones []string `yaml:"zones"`
	// MaxGap: the zone must be seen at least this often (0: no limit).
	MaxGap Duration `yaml:"max_gap"`
	// MinPerShift: the zone must be on screen at least this long each shift.
	MinPerShift Duration `yaml:"min_per_shift"`
	// OncePerShift: the zone must be seen at least once each shift.
	OncePerShift bool `yaml:"once_per_shift"`
	Line         int  `yaml:"-"`
}

// UnmarshalYAML records where the policy is declared.
func (p *ZonePolicy) UnmarshalYAML(n *yaml.Node) error {
	type plain ZonePolicy
	p.Line = n.Line
	return n.Decode((*plain)(p))
}

// KeyMoment is a moment of a site's day to watch (meal delivery, waste
// pickup, a disinfection round) at the cameras of its zones.
type KeyMoment struct {
	ID    string         `yaml:"id"`
	Name  bilingual.Text `yaml:"name"`
	Times []string       `yaml:"times"` // "HH:MM" in each site's time zone
	Zones []string       `yaml:"zones"`
	// Sites it applies to; every site with a camera of its zones when empty.
	Sites []string `yaml:"sites"`
	// Window is how long after its time the moment counts as watched.
	Window Duration `yaml:"window"`
	Line   int      `yaml:"-"`
}

// UnmarshalYAML records where the key moment is declared.
func (m *KeyMoment) UnmarshalYAML(n *yaml.Node) error {
	type plain KeyMoment
	m.Line, m.Window = n.Line, Duration(DefaultKeyMomentWindow)
	return n.Decode((*plain)(m))
}

// Defaults of the duty room's sections.
const (
	DefaultShiftTimeZone   = "Asia/Shanghai"
	DefaultHandoverGrace   = time.Hour
	DefaultKeyMomentWindow = 30 * time.Minute
)

// DefaultShifts is a day shift 08:00–20:00 and a night shift 20:00–08:00.
func DefaultShifts() Shifts {
	return Shifts{
		TimeZone: DefaultShiftTimeZone,
		Schedule: []ShiftDef{
			{ID: "day", Start: "08:00", Name: bilingual.New("白班", "Day shift")},
			{ID: "night", Start: "20:00", Name: bilingual.New("夜班", "Night shift")},
		},
		HandoverGrace: Duration(DefaultHandoverGrace),
	}
}

// DefaultCoverage: the doffing rooms seen at least every hour and for 10
// minutes a shift, the waste point once a shift; meals at 07:00, 11:30 and
// 17:30 at the entrance or meal area, and the waste pickup at 15:00.
func DefaultCoverage() Coverage {
	return Coverage{
		Policies: []ZonePolicy{
			{Zones: []string{"doffing_room_1", "doffing_room_2"}, MaxGap: Duration(time.Hour), MinPerShift: Duration(10 * time.Minute)},
			{Zones: []string{"waste_storage"}, OncePerShift: true},
		},
		KeyMoments: []KeyMoment{
			{ID: "meal_delivery", Name: bilingual.New("送餐", "Meal delivery"), Times: []string{"07:00", "11:30", "17:30"},
				Zones: []string{"meal_area", "entrance"}, Window: Duration(DefaultKeyMomentWindow)},
			{ID: "waste_pickup", Name: bilingual.New("医废转运", "Waste pickup"), Times: []string{"15:00"},
				Zones: []string{"waste_storage", "waste_route"}, Window: Duration(DefaultKeyMomentWindow)},
		},
	}
}

// ClockMinutes parses "HH:MM" (00:00 to 23:59) into minutes after midnight.
func ClockMinutes(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("time of day %q: want HH:MM, 00:00 to 23:59", s)
	}
	return hh*60 + mm, nil
}

// validateDuty checks the shifts and coverage sections.
func (c *Config) validateDuty(at func(...string) int, add func(int, string)) {
	if _, err := time.LoadLocation(c.Shifts.TimeZone); err != nil || c.Shifts.TimeZone == "" {
		add(at("shifts", "time_zone"), fmt.Sprintf("shifts: unknown time_zone %q", c.Shifts.TimeZone))
	}
	if len(c.Shifts.Schedule) == 0 {
		add(at("shifts", "schedule"), "shifts: the schedule needs at least one shift")
	}
	ids, starts := map[string]bool{}, map[int]string{}
	for _, s := range c.Shifts.Schedule {
		if !idPattern.MatchString(s.ID) {
			add(s.Line, fmt.Sprintf("shift id %q: want lower-case letters, digits, '-' or '_', up to 64", s.ID))
		} else if ids[s.ID] {
			add(s.Line, fmt.Sprintf("shift %q is declared twice", s.ID))
		}
		ids[s.ID] = true
		if min, err := ClockMinutes(s.Start); err != nil {
			add(s.Line, fmt.Sprintf("shift %q: start: %v", s.ID, err))
		} else if prev, dup := starts[min]; dup {
			add(s.Line, fmt.Sprintf("shift %q starts when shift %q does", s.ID, prev))
		} else {
			starts[min] = s.ID
		}
		checkName(s.Line, "shift "+s.ID+" name", s.Name, add)
	}
	if d := c.Shifts.HandoverGrace.D(); d < 0 || d > 4*time.Hour {
		add(at("shifts", "handover_grace"), fmt.Sprintf("handover_grace %v: want 0 to 4h", d))
	}

	zones := map[string]int{}
	for _, p := range c.Coverage.Policies {
		if len(p.Zones) == 0 {
			add(p.Line, "coverage policy: zones is empty")
		}
		for _, z := range p.Zones {
			if !idPattern.MatchString(z) {
				add(p.Line, fmt.Sprintf("coverage policy: zone %q: want a key like doffing_room_1", z))
			} else if prev, dup := zones[z]; dup {
				add(p.Line, fmt.Sprintf("coverage policy: zone %q already has the policy at line %d", z, prev))
			}
			zones[z] = p.Line
		}
		if p.MaxGap.D() < 0 || p.MinPerShift.D() < 0 {
			add(p.Line, "coverage policy: max_gap and min_per_shift must not be negative")
		}
		if p.MaxGap == 0 && p.MinPerShift == 0 && !p.OncePerShift {
			add(p.Line, "coverage policy: asks nothing (set max_gap, min_per_shift or once_per_shift)")
		}
	}
	moments := map[string]bool{}
	for _, m := range c.Coverage.KeyMoments {
		if !idPattern.MatchString(m.ID) {
			add(m.Line, fmt.Sprintf("key moment id %q: want lower-case letters, digits, '-' or '_', up to 64", m.ID))
		} else if moments[m.ID] {
			add(m.Line, fmt.Sprintf("key moment %q is declared twice", m.ID))
		}
		moments[m.ID] = true
		checkName(m.Line, "key moment "+m.ID+" name", m.Name, add)
		if len(m.Times) == 0 {
			add(m.Line, fmt.Sprintf("key moment %q: times is empty", m.ID))
		}
		for _, t := range m.Times {
			if _, err := ClockMinutes(t); err != nil {
				add(m.Line, fmt.Sprintf("key moment %q: %v", m.ID, err))
			}
		}
		if len(m.Zones) == 0 {
			add(m.Line, fmt.Sprintf("key moment %q: zones is empty", m.ID))
		}
		for _, z := range m.Zones {
			if !idPattern.MatchString(z) {
				add(m.Line, fmt.Sprintf("key moment %q: zone %q: want a key like meal_area", m.ID, z))
			}
		}
		for _, s := range m.Sites {
			if !idPattern.MatchString(s) {
				add(m.Line, fmt.Sprintf("key moment %q: site %q: want a site id", m.ID, s))
			}
		}
		if d := m.Window.D(); d < time.Minute || d > 6*time.Hour {
			add(m.Line, fmt.Sprintf("key moment %q: window %v: want 1m to 6h", m.ID, d))
		}
	}
}
