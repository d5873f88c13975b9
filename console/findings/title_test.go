package findings_test

import (
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// A deviation chosen from the catalogue keeps the catalogue's words in each
// language, whichever language the officer flagged it in; words the officer
// changed, and free text, are theirs and stay as typed.
func TestFlagKeepsTheCataloguesWordsInEachLanguage(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{})
	v := r.Watch(t, findingstest.Doff1, time.Second)
	pts := v.OnScreen(t).PTS
	catalogue := map[string]string{"zh-CN": "脱卸顺序错误", "en": "Wrong doffing order"}
	rule := map[string]string{"zh-CN": "步骤间漏做手卫生", "en": "Hand hygiene skipped between steps"}
	for _, c := range []struct {
		name, deviation, text string
		title                 map[string]string
		wantText              string
		wantTitle             map[string]string
	}{
		{"chosen in Chinese", "wrong_order", "脱卸顺序错误", nil, "脱卸顺序错误", catalogue},
		{"chosen in English", "wrong_order", "Wrong doffing order", nil, "Wrong doffing order", catalogue},
		{"no words: the catalogue's", "wrong_order", "", nil, "脱卸顺序错误", catalogue},
		{"words changed by the officer", "wrong_order", "护目镜先于隔离衣脱下", nil, "护目镜先于隔离衣脱下", nil},
		{"free text", "", "door left open", nil, "door left open", nil},
		// A run's rule the catalogue has no entry for: its words in both languages.
		{"a rule's words, proposed in English", "", "Hand hygiene skipped between steps", rule, "Hand hygiene skipped between steps", rule},
		{"a rule's words the officer changed", "", "skipped the rub", rule, "skipped the rub", nil},
		{"the catalogue's words win over a title sent", "wrong_order", "Wrong doffing order", rule, "Wrong doffing order", catalogue},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := flagRequest(pts, snapshot(t, 320, 240, 1))
			in.Deviation, in.DeviationText, in.DeviationTitle = c.deviation, c.text, c.title
			f, err := r.Findings.Flag(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Store.Get(ctx, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.DeviationText != c.wantText || len(got.DeviationTitle) != len(c.wantTitle) ||
				got.DeviationTitle["zh-CN"] != c.wantTitle["zh-CN"] || got.DeviationTitle["en"] != c.wantTitle["en"] {
				t.Errorf("stored %q %v, want %q %v", got.DeviationText, got.DeviationTitle, c.wantText, c.wantTitle)
			}
		})
	}
}

// A title sent with a flag is the words in every language, or refused.
func TestFlagRefusesAHalfTitle(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{})
	v := r.Watch(t, findingstest.Doff1, time.Second)
	pts := v.OnScreen(t).PTS
	for _, title := range []map[string]string{{"zh-CN": "步骤间漏做手卫生"}, {"zh-CN": "步骤间漏做手卫生", "en": "Skipped", "fr": "Oublié"}} {
		in := flagRequest(pts, snapshot(t, 320, 240, 1))
		in.DeviationText, in.DeviationTitle = "步骤间漏做手卫生", title
		_, err := r.Findings.Flag(ctx, in)
		if fe := fault.As(err); fe == nil || fe.Field != "deviation_title" {
			t.Errorf("title %v: %v, want a fault on deviation_title", title, err)
		}
	}
}
