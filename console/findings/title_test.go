package findings_test

import (
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/findings/findingstest"
)

// A deviation chosen from the catalogue keeps the catalogue's words in each
// language, whichever language the officer flagged it in; words the officer
// changed, and free text, are theirs and stay as typed.
func TestFlagKeepsTheCataloguesWordsInEachLanguage(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{})
	v := r.Watch(t, findingstest.Doff1, time.Second)
	pts := v.OnScreen(t).PTS
	catalogue := map[string]string{"zh-CN": "脱卸顺序错误", "en": "Wrong doffing order"}
	for _, c := range []struct {
		name, deviation, text string
		wantText              string
		wantTitle             map[string]string
	}{
		{"chosen in Chinese", "wrong_order", "脱卸顺序错误", "脱卸顺序错误", catalogue},
		{"chosen in English", "wrong_order", "Wrong doffing order", "Wrong doffing order", catalogue},
		{"no words: the catalogue's", "wrong_order", "", "脱卸顺序错误", catalogue},
		{"words changed by the officer", "wrong_order", "护目镜先于隔离衣脱下", "护目镜先于隔离衣脱下", nil},
		{"free text", "", "door left open", "door left open", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := flagRequest(pts, snapshot(t, 320, 240, 1))
			in.Deviation, in.DeviationText = c.deviation, c.text
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
