package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Message is a message sent at once to a target (Send): a title and
// markdown text for the robots, an event and its data for a webhook.
type Message struct {
	Title, Markdown string
	Event           string // webhook's event, e.g. report.daily
	Data            any    // webhook's data
}

// Send posts m to t once, now, signed as the notifier signs (no queue,
// no retry: the caller keeps what it has sent). client follows no
// redirect, as the notifier's; a 10 s timeout when nil. Errors never carry
// the URL.
func Send(ctx context.Context, client *http.Client, t Target, m Message, now time.Time) error {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var v any
	switch t.Kind {
	case "webhook":
		v = map[string]any{"event": m.Event, "data": m.Data, "created_at": now.UTC()}
	case "wecom":
		v = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": m.Markdown}}
	case "dingtalk":
		v = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": m.Title, "text": m.Markdown}}
	default:
		return fmt.Errorf("unknown notification kind %q", t.Kind)
	}
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("rendering a message: %w", err)
	}
	return deliver(ctx, &c, delivery{kind: t.Kind, url: t.URL, body: body}, t.Secret, now)
}
