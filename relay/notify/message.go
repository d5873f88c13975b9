package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/relay/findings"
)

// Webhook is the JSON a webhook receives.
type Webhook struct {
	Event     string           `json:"event"` // finding.new, finding.reopened, finding.due_soon
	Finding   findings.Finding `json:"finding"`
	CreatedAt time.Time        `json:"created_at"`
}

var headlines = map[string]string{
	ReasonNew:      "新问题 New finding",
	ReasonReopened: "问题重新打开 Finding reopened",
	ReasonDueSoon:  "整改期限将至 Deadline near",
}

var severityWords = map[string]string{"critical": "严重 critical", "major": "较重 major", "minor": "一般 minor"}

// markdown is the robots' text: both languages, as a duty room reads both.
func markdown(reason string, f findings.Finding, now time.Time, loc *time.Location) (title, text string) {
	title = headlines[reason] + ": " + f.DeviationText
	left := f.Deadline.Sub(now).Round(time.Minute)
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n", headlines[reason])
	fmt.Fprintf(&b, "**%s**\n\n", f.DeviationText)
	fmt.Fprintf(&b, "> 场所 Site: %s\n\n", f.Site)
	fmt.Fprintf(&b, "> 摄像机 Camera: %s\n\n", f.Camera)
	fmt.Fprintf(&b, "> 严重程度 Severity: %s\n\n", severityWords[f.Severity])
	fmt.Fprintf(&b, "> 整改期限 Deadline: %s（剩余 %s left）\n\n", f.Deadline.In(loc).Format("2006-01-02 15:04"), left)
	if f.Note != "" {
		fmt.Fprintf(&b, "> 备注 Note: %s\n\n", f.Note)
	}
	fmt.Fprintf(&b, "编号 ID: %s", f.ID)
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
