// Package bilingual is the one type for a text the product gives in both of
// its languages, Simplified Chinese (the default) and English: checklist
// templates, the relay's sites and cameras, its page's and notifications'
// words. A Text is a mapping from language tag to text because that is the
// shape it has wherever it is written down (the relay's YAML configuration,
// checklist templates, the relay's JSON, the view's locales), so it reads and
// writes them as they are.
package bilingual

import (
	"slices"
	"strings"
)

// The language tags (BCP 47) the product speaks.
const (
	ZH = "zh-CN"
	EN = "en"
)

// Languages are the tags every text is given in, the default first.
var Languages = []string{ZH, EN}

// Known reports whether lang is one of Languages.
func Known(lang string) bool { return lang == ZH || lang == EN }

// Text is a text in each language, keyed by tag. Copies share it, so a Text
// is made whole (New, a literal, a decoder) and not changed afterwards.
type Text map[string]string

// New returns the text given in Chinese and English.
func New(zh, en string) Text { return Text{ZH: zh, EN: en} }

// In returns the text in lang, falling back to Chinese when lang is not
// given (or unknown).
func (t Text) In(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	return t[ZH]
}

// Missing returns the languages the text is not given in (or given as
// blanks), in the order of Languages; none for a complete text.
func (t Text) Missing() []string {
	var out []string
	for _, lang := range Languages {
		if strings.TrimSpace(t[lang]) == "" {
			out = append(out, lang)
		}
	}
	return out
}

// Complete reports whether the text is given in every language.
func (t Text) Complete() bool { return len(t.Missing()) == 0 }

// Unknown returns the tags the text carries that are not Languages, sorted.
func (t Text) Unknown() []string {
	var out []string
	for lang := range t {
		if !Known(lang) {
			out = append(out, lang)
		}
	}
	slices.Sort(out)
	return out
}
