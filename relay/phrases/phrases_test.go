package phrases

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

var verb = regexp.MustCompile(`%[-+# 0]*[0-9.]*[a-zA-Z%]`)

// Every phrase is given in both languages and nothing else, and a format
// takes the same arguments in each.
func TestCatalogueIsComplete(t *testing.T) {
	for key, text := range catalogue {
		if !text.Complete() || len(text.Unknown()) > 0 {
			t.Errorf("%s: %v is not in exactly zh-CN and en", key, text)
		}
		zh, en := verb.FindAllString(text[bilingual.ZH], -1), verb.FindAllString(text[bilingual.EN], -1)
		for i := range zh {
			zh[i] = zh[i][len(zh[i])-1:]
		}
		for i := range en {
			en[i] = en[i][len(en[i])-1:]
		}
		if !slices.Equal(zh, en) {
			t.Errorf("%s: the formats take %v in zh-CN and %v in en", key, zh, en)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, c := range []struct{ lang, key, want string }{
		{bilingual.ZH, "critical", "严重"},
		{bilingual.EN, "critical", "Critical"},
		{"fr", "critical", "严重"},
		{bilingual.EN, "no_such_phrase", "no_such_phrase"},
	} {
		if got := In(c.lang, c.key); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.lang, c.key, got, c.want)
		}
	}
	if got := Sprintf(bilingual.EN, "time_left", "5 min"); got != "5 min left" {
		t.Errorf("time_left: %q", got)
	}
}

// A status, and a severity, reads the same on the site page as in the
// console's view, in each language: the officer and the site manager talk
// about one finding in one vocabulary.
func TestStatusesAndSeveritiesAreTheConsolesWords(t *testing.T) {
	for _, lang := range bilingual.Languages {
		src, err := os.ReadFile(filepath.Join("..", "..", "frontend", "src", "i18n", "locales", lang+".ts"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			block string
			keys  []string
		}{
			{`\n    status: \{`, []string{"open", "acknowledged", "rectified", "verified", "reopened", "withdrawn"}},
			{`\n  severity: \{`, []string{"critical", "major", "minor"}},
		} {
			loc := regexp.MustCompile(c.block).FindIndex(src)
			if loc == nil {
				t.Fatalf("%s.ts: no block %s", lang, c.block)
			}
			block := string(src[loc[1]:])
			block = block[:strings.Index(block, "}")]
			for _, key := range c.keys {
				m := regexp.MustCompile(`\n\s*` + key + `: '([^']*)'`).FindStringSubmatch(block)
				if m == nil {
					t.Errorf("%s.ts: no %s in %s", lang, key, c.block)
					continue
				}
				if got := In(lang, key); got != m[1] {
					t.Errorf("%s %s: the site page says %q, the console %q", lang, key, got, m[1])
				}
			}
		}
	}
}
