package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// The example's shifts and coverage are the defaults.
func TestExampleDutySectionsAreTheDefaults(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(examplePath, data)
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	clearLines(&cfg)
	if !reflect.DeepEqual(cfg.Shifts, def.Shifts) {
		t.Errorf("example shifts %+v, defaults %+v", cfg.Shifts, def.Shifts)
	}
	if len(cfg.Coverage.KeyMoments) > 0 && len(cfg.Coverage.KeyMoments[0].Sites) == 0 {
		cfg.Coverage.KeyMoments[0].Sites = nil // "sites: []" shown for its key
	}
	if !reflect.DeepEqual(cfg.Coverage, def.Coverage) {
		t.Errorf("example coverage %+v, defaults %+v", cfg.Coverage, def.Coverage)
	}
}

func clearLines(c *Config) {
	for i := range c.Shifts.Schedule {
		c.Shifts.Schedule[i].Line = 0
	}
	for i := range c.Coverage.Policies {
		c.Coverage.Policies[i].Line = 0
	}
	for i := range c.Coverage.KeyMoments {
		c.Coverage.KeyMoments[i].Line = 0
	}
}

func TestThreeShifts(t *testing.T) {
	cfg, err := Parse("relay.yaml", []byte(`shifts:
  schedule:
    - {id: early, start: "00:00", name: {zh-CN: 早, en: Early}}
    - {id: mid, start: "08:00", name: {zh-CN: 中, en: Middle}}
    - {id: late, start: "16:00", name: {zh-CN: 晚, en: Late}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Shifts.Schedule) != 3 || cfg.Shifts.Schedule[2].ID != "late" || cfg.Shifts.TimeZone != "Asia/Shanghai" {
		t.Fatalf("three shifts: %+v", cfg.Shifts)
	}
}

func TestDutySectionErrors(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"bad start", "shifts:\n  schedule:\n    - {id: day, start: \"8am\", name: {zh-CN: 白, en: Day}}\n", "relay.yaml:3: shift \"day\": start: time of day \"8am\""},
		{"same start", "shifts:\n  schedule:\n    - {id: a, start: \"08:00\", name: {zh-CN: a, en: a}}\n    - {id: b, start: \"08:00\", name: {zh-CN: b, en: b}}\n", "relay.yaml:4: shift \"b\" starts when shift \"a\" does"},
		{"no shifts", "shifts:\n  schedule: []\n", "needs at least one shift"},
		{"zone twice", "coverage:\n  policies:\n    - {zones: [a], max_gap: 1h}\n    - {zones: [a], once_per_shift: true}\n", "relay.yaml:4: coverage policy: zone \"a\" already has the policy at line 3"},
		{"empty policy", "coverage:\n  policies:\n    - {zones: [a]}\n", "asks nothing"},
		{"bad moment time", "coverage:\n  key_moments:\n    - {id: m, name: {zh-CN: m, en: m}, times: [\"25:00\"], zones: [a]}\n", "relay.yaml:3: key moment \"m\": time of day \"25:00\""},
		{"unknown zone time zone", "shifts:\n  time_zone: Mars/Base\n", "unknown time_zone \"Mars/Base\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("relay.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}
