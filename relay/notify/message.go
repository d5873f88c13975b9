package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/phrases"
)

// Webhook is the JSON a webhook receives.
type Webhook struct {
	Event     string           `json:"event"` // finding.new, finding.reopened, finding.due_soon
	Finding   findings.Finding `json:"finding"`
	CreatedAt time.Time        `json:"created_at"`
}

// both is a phrase as the robots' text gives it: Chinese, then English.
func both(key string) string {
	t := phrases.Of(key)
	return t.In(bilingual.ZH) + " " + t.In(bilingual.EN)
}

// markup holds the characters that make markup in the robots' markdown
// (emphasis, code, links and images, headings, quotes, tables, HTML), each
// with its full-width form. WeCom's and DingTalk's dialects differ and
// neither documents backslash escapes, so a finding's text is shown with
// these in their full-width forms, which no dialect reads as markup and
// which read as ordinary punctuation in the Chinese text around them.
// "://" loses its colon so that no address is made a link.
var markup = strings.NewReplacer(
	`\`, "＼", "`", "｀", "*", "＊", "_", "＿", "~", "～", "|", "｜",
	"[", "［", "]", "］", "(", "（", ")", "）", "!", "！",
	"#", "＃", ">", "＞", "<", "＜", "://", "：//",
)

// inline is a field a console or a person typed (deviation text, note,
// camera, site) as the robots' markdown shows it: one line of text, no
// markup. A line break would let the field add lines of its own making.
func inline(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return markup.Replace(strings.TrimSpace(s))
}

// what is the finding's deviation as the robots' text gives it: the
// catalogue's words in Chinese, then English, or the text as typed.
func what(f findings.Finding) string {
	zh, en := findings.Title(f.Draft, bilingual.ZH), findings.Title(f.Draft, bilingual.EN)
	if zh == en {
		return inline(zh)
	}
	return inline(zh) + " / " + inline(en)
}

// markdown is the robots' text: both languages, as a duty room reads both.
func markdown(reason string, f findings.Finding, now time.Time, loc *time.Location) (title, text string) {
	headline := both("headline_" + reason)
	title = headline + ": " + what(f)
	left := f.Deadline.Sub(now).Round(time.Minute)
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n", headline)
	fmt.Fprintf(&b, "**%s**\n\n", what(f))
	fmt.Fprintf(&b, "> %s: %s\n\n", both("site"), inline(f.Site))
	fmt.Fprintf(&b, "> %s: %s\n\n", both("camera"), inline(f.Camera))
	// The severity's English is its code, as the webhook's JSON has it.
	fmt.Fprintf(&b, "> %s: %s %s\n\n", both("severity"), phrases.In(bilingual.ZH, f.Severity), f.Severity)
	fmt.Fprintf(&b, "> %s: %s（%s %s %s）\n\n", both("deadline"), f.Deadline.In(loc).Format("2006-01-02 15:04"),
		phrases.In(bilingual.ZH, "left"), left, phrases.In(bilingual.EN, "left"))
	if f.Note != "" {
		fmt.Fprintf(&b, "> %s: %s\n\n", both("note"), inline(f.Note))
	}
	// The id is as filed (findings.CheckID: letters, digits, "-_.:"), to be
	// copied and searched for as it is.
	fmt.Fprintf(&b, "%s: %s", both("id"), f.ID)
	return title, b.String()
}

// render makes the body a target of kind receives.
func render(kind, reason string, f findings.Finding, now time.Time, loc *time.Location) ([]byte, error) {
	f.Events = nil
	var v any
	switch kind {
	case "webhook":
		v = Webhook{Event: "finding." + reason, Finding: f, CreatedAt: now.UTC()}
	case "wecom":
		_, text := markdown(reason, f, now, loc)
		v = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": text}}
	case "dingtalk":
		title, text := markdown(reason, f, now, loc)
		v = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": title, "text": text}}
	default:
		return nil, fmt.Errorf("unknown notification kind %q", kind)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("rendering a notification: %w", err)
	}
	return b, nil
}
