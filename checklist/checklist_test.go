package checklist

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

const validTemplate = `id: hand-rub
version: 2
title: {zh-CN: 手卫生, en: Hand hygiene}
activity: ppe_doffing
zones: [doffing_room_1]
order_deviation: wrong_order
steps:
  - id: rub
    text: {zh-CN: 揉搓, en: Rub}
    min_duration: 15s
    short_deviation: short
    before: [dry]
  - id: dry
    text: {zh-CN: 晾干, en: Dry}
deviations:
  - id: wrong_order
    text: {zh-CN: 顺序错误, en: Wrong order}
    severity: major
    deadline: 48h
  - id: short
    text: {zh-CN: 时间不足, en: Too short}
    severity: minor
    deadline: 7d
`

func TestParseValid(t *testing.T) {
	tp, err := Parse("rub.yaml", []byte(validTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if tp.ID != "hand-rub" || tp.Version != 2 || len(tp.Steps) != 2 || tp.Source != "rub.yaml" {
		t.Fatalf("got %+v", tp)
	}
	d, _ := tp.Deviation("short")
	if time.Duration(d.Deadline) != 7*24*time.Hour || time.Duration(tp.Steps[0].MinDuration) != 15*time.Second {
		t.Fatalf("durations: deadline %v, min %v", time.Duration(d.Deadline), time.Duration(tp.Steps[0].MinDuration))
	}
}

func TestParseProblems(t *testing.T) {
	cases := []struct {
		name, from, to string
		want           string // "file:line: message" fragment
	}{
		{"duplicate step", "  - id: dry\n", "  - id: rub\n", "rub.yaml:13: step \"rub\" appears twice"},
		{"unknown severity", "severity: minor", "severity: huge", "rub.yaml:22: deviation \"short\": severity \"huge\" is not one of critical, major, minor"},
		{"before names no step", "before: [dry]", "before: [wash]", "rub.yaml:12: step \"rub\": \"before\" names step \"wash\", which does not exist"},
		{"missing translation", "text: {zh-CN: 晾干, en: Dry}", "text: {zh-CN: 晾干}", "rub.yaml:14: steps[2].text has no en translation"},
		{"unknown language", "text: {zh-CN: 晾干, en: Dry}", "text: {zh-CN: 晾干, en: Dry, fr: Sec}", "rub.yaml:14: steps[2].text: language \"fr\" is not one of zh-CN, en"},
		{"text not in languages", "text: {zh-CN: 晾干, en: Dry}", "text: Dry", "rub.yaml:14: cannot unmarshal"},
		{"unknown field", "activity: ppe_doffing", "activity: ppe_doffing\ncolour: red", "rub.yaml:5: field colour is unknown in Template"},
		{"bad duration", "min_duration: 15s", "min_duration: fifteen", "rub.yaml:10:"},
		{"deviation not in catalogue", "short_deviation: short", "short_deviation: brief", "rub.yaml:11: deviation \"brief\" is not in the template's catalogue"},
		{"order cycle", "    text: {zh-CN: 晾干, en: Dry}\n", "    text: {zh-CN: 晾干, en: Dry}\n    before: [rub]\n", "the order rules contradict each other: rub → dry → rub"},
		{"bad yaml", "zones: [doffing_room_1]", "zones: [doffing_room_1", "rub.yaml:"},
		{"no version", "version: 2\n", "", "version must be a whole number from 1 up"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(validTemplate, c.from, c.to, 1)
			if src == validTemplate {
				t.Fatalf("case does not change the template")
			}
			tp, err := Parse("rub.yaml", []byte(src))
			var invalid *InvalidError
			if !errors.As(err, &invalid) || tp != nil {
				t.Fatalf("want *InvalidError, got %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("problems:\n%s\nwant one containing %q", err, c.want)
			}
		})
	}
	if _, err := Parse("empty.yaml", nil); err == nil || !strings.Contains(err.Error(), "empty.yaml:1: the file is empty") {
		t.Fatalf("empty file: %v", err)
	}
}

func TestDefaultsCoverTheActivities(t *testing.T) {
	lib, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ppe_doffing": "doffing_room_1", "health_monitoring": "corridor", "disinfection": "corridor",
		"waste_transfer": "waste_storage", "meal_delivery": "meal_area", "zoning": "entrance",
	}
	got := map[string]bool{}
	for _, tp := range lib.Latest() {
		got[tp.Activity] = true
		for _, s := range tp.Steps {
			for _, lang := range bilingual.Languages {
				if s.Text[lang] == "" {
					t.Errorf("%s step %s has no %s text", tp.ID, s.ID, lang)
				}
			}
		}
	}
	for activity, zone := range want {
		if !got[activity] {
			t.Errorf("no default template for %s", activity)
		}
		found := false
		for _, tp := range lib.ForZone(zone) {
			found = found || tp.Activity == activity
		}
		if !found {
			t.Errorf("zone %s does not offer the %s template", zone, activity)
		}
	}
}

func TestLoadOverridesAndSkipsBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("rub.yaml", validTemplate)
	write("broken.yml", strings.Replace(validTemplate, "severity: minor", "severity: huge", 1))
	write("doffing-v2.yaml", strings.Replace(strings.Replace(validTemplate, "id: hand-rub", "id: ppe-doffing", 1), "version: 2", "version: 2", 1))
	write("notes.txt", "not a template")

	lib, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(lib.Problems) != 1 || !strings.HasPrefix(lib.Problems[0].String(), filepath.Join(dir, "broken.yml")+":22:") {
		t.Fatalf("problems: %v", lib.Problems)
	}
	if _, ok := lib.Get("hand-rub", 2); !ok {
		t.Fatal("the supervisor's template is missing")
	}
	newest, _ := lib.Get("ppe-doffing", 0)
	if newest.Version != 2 {
		t.Fatalf("newest ppe-doffing is version %d, want the override's 2", newest.Version)
	}
	if v1, ok := lib.Get("ppe-doffing", 1); !ok || !strings.HasPrefix(v1.Source, "embedded:") {
		t.Fatal("the embedded version 1 must stay available for old findings")
	}
	if lib, err := Load(filepath.Join(dir, "absent")); err != nil || len(lib.Latest()) == 0 {
		t.Fatalf("a missing folder must leave the defaults: %v", err)
	}
}

func TestRunOrderRules(t *testing.T) {
	lib, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	doffing, _ := lib.Get("ppe-doffing", 0)
	t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		marks []string // step ids marked done in this order
		want  []string // deviations flagged, in order
	}{
		{"the full flow", []string{"hh-gloves", "goggles", "hh-after-goggles", "coverall", "hh-after-coverall", "enter-room-2", "respirator", "hh-after-respirator", "new-mask", "enter-clean"}, nil},
		{"hand hygiene skipped", []string{"hh-gloves", "goggles", "coverall"}, []string{"missed_hand_hygiene"}},
		{"respirator first", []string{"hh-gloves", "goggles", "hh-after-goggles", "respirator"}, []string{"respirator_first", "wrong_order"}},
		{"clean zone without mask", []string{"hh-gloves", "goggles", "hh-after-goggles", "coverall", "hh-after-coverall", "enter-room-2", "respirator", "hh-after-respirator", "enter-clean"}, []string{"no_fresh_mask"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := NewRun(doffing)
			var got []string
			for i, step := range c.marks {
				flags, err := run.Mark(step, Done, "", t0.Add(time.Duration(i)*time.Second))
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range flags {
					got = append(got, f.Deviation)
					if f.Reason["zh-CN"] == "" || f.Reason["en"] == "" {
						t.Errorf("flag %+v lacks a reason in both languages", f)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("flagged %v, want %v", got, c.want)
			}
			if len(run.Observations()) != len(c.marks) {
				t.Fatalf("%d observations kept", len(run.Observations()))
			}
		})
	}
}

func TestRunTimerAndMarks(t *testing.T) {
	lib, _ := Defaults()
	doffing, _ := lib.Get("ppe-doffing", 0)
	run := NewRun(doffing)
	t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	if err := run.StartTimer("goggles", t0); err == nil {
		t.Fatal("an untimed step started a timer")
	}
	if err := run.StartTimer("hh-gloves", t0); err != nil {
		t.Fatal(err)
	}
	d, flags, err := run.StopTimer("hh-gloves", t0.Add(9*time.Second))
	if err != nil || d != 9*time.Second {
		t.Fatalf("stop: %v %v", d, err)
	}
	if len(flags) != 1 || flags[0].Deviation != "short_hand_rub" {
		t.Fatalf("a 9 s rub flagged %+v", flags)
	}
	run.StartTimer("hh-after-goggles", t0)
	// Goggles were never marked, and must come before this hand hygiene: a long
	// enough rub still raises the order rule, and only that.
	if _, flags, _ := run.StopTimer("hh-after-goggles", t0.Add(20*time.Second)); len(flags) != 1 || flags[0].Deviation != "wrong_order" {
		t.Fatalf("flags %+v, want wrong_order alone", flags)
	}
	if _, _, err := run.StopTimer("hh-gloves", t0); err == nil {
		t.Fatal("a stopped timer stopped again")
	}
	for _, bad := range []struct {
		step, dev string
		mark      Mark
	}{{"nope", "", Done}, {"goggles", "made-up", Deviated}, {"goggles", "wrong_order", Done}, {"goggles", "", "maybe"}} {
		if _, err := run.Mark(bad.step, bad.mark, bad.dev, t0); err == nil {
			t.Errorf("Mark(%q, %q, %q) accepted", bad.step, bad.mark, bad.dev)
		}
	}
	if _, err := run.Mark("goggles", Deviated, "face-touch", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := run.Mark("goggles", Unmarked, "", t0); err != nil || len(run.Observations()) != 2 {
		t.Fatalf("unmarking: %v, %d observations", err, len(run.Observations()))
	}
}

func TestDurationText(t *testing.T) {
	for in, want := range map[string]time.Duration{"15s": 15 * time.Second, "48h": 48 * time.Hour, "7d": 7 * 24 * time.Hour} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err != nil || time.Duration(d) != want {
			t.Errorf("%s: %v %v", in, time.Duration(d), err)
		}
		out, _ := d.MarshalText()
		if string(out) != in && !(in == "48h" && string(out) == "2d") {
			t.Errorf("%s marshals as %s", in, out)
		}
	}
	for _, bad := range []string{"", "x", "-5s", "1.5d", "-1d"} {
		var d Duration
		if err := d.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTemplateJSONUsesSeconds(t *testing.T) {
	tp, err := Parse("rub.yaml", []byte(validTemplate))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"min_duration_s":15`, `"deadline_s":604800`, `"before":["dry"]`, `"zh-CN":"揉搓"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	var back Template
	if err := json.Unmarshal(b, &back); err != nil || time.Duration(back.Steps[0].MinDuration) != 15*time.Second {
		t.Fatalf("round trip: %v %v", err, back.Steps[0].MinDuration)
	}
}
