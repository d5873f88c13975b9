package bilingual

import (
	"encoding/json"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestIn(t *testing.T) {
	for _, c := range []struct {
		text       Text
		lang, want string
	}{
		{New("一脱间", "Doffing room 1"), ZH, "一脱间"},
		{New("一脱间", "Doffing room 1"), EN, "Doffing room 1"},
		{New("一脱间", "Doffing room 1"), "fr", "一脱间"},
		{New("一脱间", ""), EN, "一脱间"},
		{Text{ZH: "一脱间"}, EN, "一脱间"},
		{nil, EN, ""},
	} {
		if got := c.text.In(c.lang); got != c.want {
			t.Errorf("%v in %s: %q, want %q", c.text, c.lang, got, c.want)
		}
	}
}

func TestMissingAndUnknown(t *testing.T) {
	for _, c := range []struct {
		text             Text
		missing, unknown []string
	}{
		{New("东湖", "Donghu"), nil, nil},
		{New("东湖", " "), []string{EN}, nil},
		{Text{EN: "Donghu"}, []string{ZH}, nil},
		{nil, []string{ZH, EN}, nil},
		{Text{ZH: "东湖", EN: "Donghu", "fr": "Donghu", "de": "Donghu"}, nil, []string{"de", "fr"}},
	} {
		if got := c.text.Missing(); !reflect.DeepEqual(got, c.missing) {
			t.Errorf("%v: missing %v, want %v", c.text, got, c.missing)
		}
		if got := c.text.Complete(); got != (c.missing == nil) {
			t.Errorf("%v: complete %v", c.text, got)
		}
		if got := c.text.Unknown(); !reflect.DeepEqual(got, c.unknown) {
			t.Errorf("%v: unknown %v, want %v", c.text, got, c.unknown)
		}
	}
}

// A Text is written as the configuration, the templates and the relay's
// JSON have always written names: an object keyed by language tag.
func TestShapes(t *testing.T) {
	want := New("东湖", "Donghu")
	var fromYAML Text
	if err := yaml.Unmarshal([]byte("{zh-CN: 东湖, en: Donghu}"), &fromYAML); err != nil || !reflect.DeepEqual(fromYAML, want) {
		t.Fatalf("YAML: %v, %v", fromYAML, err)
	}
	b, err := json.Marshal(want)
	if err != nil || string(b) != `{"en":"Donghu","zh-CN":"东湖"}` {
		t.Fatalf("JSON: %s, %v", b, err)
	}
	var fromJSON Text
	if err := json.Unmarshal([]byte(`{"zh-CN":"东湖","en":"Donghu"}`), &fromJSON); err != nil || !reflect.DeepEqual(fromJSON, want) {
		t.Fatalf("JSON: %v, %v", fromJSON, err)
	}
}
