// Package notify announces findings to the people responsible for a site:
// a generic webhook (JSON signed with HMAC-SHA256), a WeCom group robot and
// a DingTalk custom robot. It follows the findings' change cursor for new
// and reopened findings, checks deadlines for reminders, and keeps every
// message in the database until its target accepts it (or for 24 h),
// retrying with capped backoff. URLs (robots carry their key in them) and
// secrets are never logged.
//
// It owns the tables notify_cursor and notify_deliveries of the relay
// database (relay/store's migration 0005) and reads findings only through
// Findings.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/findings"
)

// Target is where one site's notifications go.
type Target struct {
	Kind   string // webhook, wecom, dingtalk
	URL    string
	Secret string
}

// Findings is where the notifier reads findings from (relay/findings.Store).
type Findings interface {
	Changes(ctx context.Context, after int64, limit int) ([]findings.Change, error)
	Changed() <-chan struct{}
	Active(ctx context.Context) ([]findings.Finding, error)
}

// Config is what the notifier needs.
type Config struct {
	DB       *sql.DB // the relay database (relay/store.OpenDatabase)
	Findings Findings
	// Targets are each site's targets, by site id.
	Targets map[string][]Target
	// Zones are the sites' time zones, for the deadlines messages show
	// (Asia/Shanghai when missing).
	Zones map[string]*time.Location
	// Client posts the messages (a 10 s timeout when nil); the notifier
	// uses a copy that follows no redirect.
	Client *http.Client
	Now    func() time.Time // deadlines and backoff; time.Now when nil
	// Interval is how often reminders and due retries are looked at
	// (default 5 s); a change of the findings is acted on at once.
	Interval time.Duration
	// Backoff is the first retry's wait, doubling up to MaxBackoff
	// (defaults 5 s and 10 min); GiveUp is how long a message is tried (24 h).
	Backoff, MaxBackoff, GiveUp time.Duration
	Log                         zerolog.Logger
}

// Notifier sends the notifications.
type Notifier struct {
	Config
}

// Reasons for a message.
const (
	ReasonNew      = "new"
	ReasonReopened = "reopened"
	ReasonDueSoon  = "due_soon"
)

// Reminder stages: 2 h before the deadline, and when a quarter of the time
// from flagging is left, for deadlines more than 8 h from flagging.
const (
	reminderBefore = 2 * time.Hour
	longDeadline   = 8 * time.Hour
)

// New returns a notifier; Run starts it.
func New(cfg Config) *Notifier {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	// A redirect would re-send the message, and a webhook's signature, to
	// wherever the target points: a target is the URL configured, no other.
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Client = &client
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 5 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	if cfg.GiveUp <= 0 {
		cfg.GiveUp = 24 * time.Hour
	}
	return &Notifier{cfg}
}

// Run queues and sends notifications until ctx is cancelled. Errors of a
// round are logged and the round tried again; Run returns nil when done.
func (n *Notifier) Run(ctx context.Context) error {
	tick := time.NewTicker(n.Interval)
	defer tick.Stop()
	for {
		changed := n.Findings.Changed()
		if err := n.Round(ctx); err != nil && ctx.Err() == nil {
			n.Log.Warn().Err(err).Msg("notification round failed; retrying")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-tick.C:
		}
	}
}

// Round queues what the changes since the last round and the deadlines
// call for, then sends what is due.
func (n *Notifier) Round(ctx context.Context) error {
	if err := n.follow(ctx); err != nil {
		return err
	}
	if err := n.remind(ctx); err != nil {
		return err
	}
	return n.send(ctx)
}

func (n *Notifier) cursor(ctx context.Context) (int64, error) {
	var c int64
	err := n.DB.QueryRowContext(ctx, `SELECT cursor FROM notify_cursor WHERE id = 1`).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the notification cursor: %w", err)
	}
	return c, nil
}

// follow queues messages for findings filed or reopened since the cursor.
func (n *Notifier) follow(ctx context.Context) error {
	after, err := n.cursor(ctx)
	if err != nil {
		return err
	}
	for {
		changes, err := n.Findings.Changes(ctx, after, 100)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			return nil
		}
		for _, c := range changes {
			switch c.Event.Action {
			case "created":
				err = n.queue(ctx, c.Finding, ReasonNew, "")
			case string(findings.ActReopen):
				err = n.queue(ctx, c.Finding, ReasonReopened, strconv.FormatInt(c.Cursor, 10))
			}
			if err != nil {
				return err
			}
			after = c.Cursor
		}
		if _, err := n.DB.ExecContext(ctx, `INSERT INTO notify_cursor (id, cursor) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET cursor = excluded.cursor`, after); err != nil {
			return fmt.Errorf("saving the notification cursor: %w", err)
		}
	}
}

// remind queues deadline reminders of findings that await the site.
func (n *Notifier) remind(ctx context.Context) error {
	active, err := n.Findings.Active(ctx)
	if err != nil {
		return err
	}
	now := n.Now()
	for _, f := range active {
		if f.Status == findings.StatusRectified || !f.Deadline.After(now) || len(n.Targets[f.Site]) == 0 {
			continue
		}
		span := f.Deadline.Sub(f.FlaggedAt)
		left := f.Deadline.Sub(now)
		deadline := f.Deadline.UTC().Format(time.RFC3339)
		// A deadline closer than the reminder when filed was said in the
		// new finding's message.
		if left <= reminderBefore && span > reminderBefore {
			if err := n.queue(ctx, f, ReasonDueSoon, deadline+"/2h"); err != nil {
				return err
			}
		}
		if span > longDeadline && left <= span/4 && left > reminderBefore {
			if err := n.queue(ctx, f, ReasonDueSoon, deadline+"/quarter"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (n *Notifier) zone(site string) *time.Location {
	if loc := n.Zones[site]; loc != nil {
		return loc
	}
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.UTC
}

// queue records one message per target of the finding's site; a message
// already recorded for the same reason and key is not repeated.
func (n *Notifier) queue(ctx context.Context, f findings.Finding, reason, key string) error {
	now := sqlitedb.FormatTime(n.Now())
	for _, t := range n.Targets[f.Site] {
		body, err := render(t.Kind, reason, f, n.Now(), n.zone(f.Site))
		if err != nil {
			return err
		}
		res, err := n.DB.ExecContext(ctx, `INSERT INTO notify_deliveries (finding_id, reason, key, site_id, kind, url, body,
			created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			f.ID, reason, key, f.Site, t.Kind, t.URL, string(body), now, now)
		if err != nil {
			return fmt.Errorf("queueing a notification of finding %s: %w", f.ID, err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n.Log.Info().Str("finding", f.ID).Str("site", f.Site).Str("reason", reason).Str("kind", t.Kind).Msg("notification queued")
		}
	}
	return nil
}

type delivery struct {
	id                       int64
	finding, site, kind, url string
	body                     []byte
	created                  time.Time
	attempts                 int
}

// send tries every message that is due.
func (n *Notifier) send(ctx context.Context) error {
	rows, err := n.DB.QueryContext(ctx, `SELECT id, finding_id, site_id, kind, url, body, created_at, attempts FROM notify_deliveries
		WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT 50`, sqlitedb.FormatTime(n.Now()))
	if err != nil {
		return fmt.Errorf("reading due notifications: %w", err)
	}
	var due []delivery
	for rows.Next() {
		var d delivery
		var body, created string
		if err := rows.Scan(&d.id, &d.finding, &d.site, &d.kind, &d.url, &body, &created, &d.attempts); err != nil {
			rows.Close()
			return fmt.Errorf("reading due notifications: %w", err)
		}
		d.body = []byte(body)
		if d.created, err = sqlitedb.ParseTime(created); err != nil {
			rows.Close()
			return err
		}
		due = append(due, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading due notifications: %w", err)
	}
	for _, d := range due {
		if ctx.Err() != nil {
			return nil
		}
		if err := n.attempt(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// secret finds the target's secret in the configuration: it is never stored.
func (n *Notifier) secret(d delivery) (string, bool) {
	for _, t := range n.Targets[d.site] {
		if t.Kind == d.kind && t.URL == d.url {
			return t.Secret, true
		}
	}
	return "", false
}

func (n *Notifier) attempt(ctx context.Context, d delivery) error {
	now := n.Now()
	log := n.Log.With().Int64("delivery", d.id).Str("finding", d.finding).Str("kind", d.kind).Str("host", host(d.url)).Logger()
	secret, ok := n.secret(d)
	var err error
	if !ok {
		err = errors.New("the target is no longer configured")
	} else {
		err = deliver(ctx, n.Client, d, secret, now)
	}
	if err == nil {
		if _, err := n.DB.ExecContext(ctx, `UPDATE notify_deliveries SET delivered_at = ?, attempts = attempts + 1, last_error = '' WHERE id = ?`,
			sqlitedb.FormatTime(now), d.id); err != nil {
			return fmt.Errorf("recording delivery %d: %w", d.id, err)
		}
		log.Info().Int("attempts", d.attempts+1).Msg("notification delivered")
		return nil
	}
	if ctx.Err() != nil {
		return nil // shutting down: not the target's failure
	}
	if !ok || now.Sub(d.created) >= n.GiveUp {
		if _, err := n.DB.ExecContext(ctx, `UPDATE notify_deliveries SET gave_up_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?`,
			sqlitedb.FormatTime(now), err.Error(), d.id); err != nil {
			return fmt.Errorf("recording delivery %d: %w", d.id, err)
		}
		log.Warn().Err(err).Int("attempts", d.attempts+1).Msg("notification given up")
		return nil
	}
	wait := n.Backoff << min(d.attempts, 20)
	if wait > n.MaxBackoff || wait <= 0 {
		wait = n.MaxBackoff
	}
	if _, err := n.DB.ExecContext(ctx, `UPDATE notify_deliveries SET next_attempt_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?`,
		sqlitedb.FormatTime(now.Add(wait)), err.Error(), d.id); err != nil {
		return fmt.Errorf("recording delivery %d: %w", d.id, err)
	}
	log.Info().Err(err).Int("attempts", d.attempts+1).Dur("retry_in", wait).Msg("notification failed; will retry")
	return nil
}

// host is what logs say of a target: its host, never its path or query.
func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	return u.Host
}

// deliver posts one message. Errors never carry the URL: url.Error's would.
func deliver(ctx context.Context, client *http.Client, d delivery, secret string, now time.Time) error {
	target := d.url
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(d.body))
	if err != nil {
		return errors.New("the target URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	switch d.kind {
	case "webhook":
		req.Header.Set("X-Qianliyan-Signature", WebhookSignature(secret, now, d.body))
		req.Header.Set("X-Qianliyan-Delivery", strconv.FormatInt(d.id, 10))
	case "dingtalk":
		if secret != "" {
			req.URL.RawQuery = DingTalkSign(req.URL.Query(), secret, now).Encode()
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("posting: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return fmt.Errorf("the target answered %s: redirects are not followed, configure the URL it points to", resp.Status)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the target answered %s", resp.Status)
	}
	if d.kind == "wecom" || d.kind == "dingtalk" {
		// The robots answer 200 with their verdict inside.
		var r struct {
			ErrCode *int   `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if err := json.Unmarshal(b, &r); err != nil || r.ErrCode == nil {
			return errors.New("the robot's answer is not its JSON")
		}
		if *r.ErrCode != 0 {
			return fmt.Errorf("the robot refused: errcode %d %s", *r.ErrCode, r.ErrMsg)
		}
	}
	return nil
}

// WebhookSignature is the X-Qianliyan-Signature of body sent at t:
// "t=UNIX,v1=hex(HMAC-SHA256(secret, "UNIX.BODY"))".
func WebhookSignature(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a webhook's signature header against its body, and
// that it was made within maxAge of now: what a receiver does.
func VerifyWebhook(secret, header string, body []byte, now time.Time, maxAge time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errors.New("the signature header is not t=UNIX,v1=HEX")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > maxAge || d < -maxAge {
		return errors.New("the signature is too old or from the future")
	}
	want := WebhookSignature(secret, time.Unix(unix, 0), body)
	if !hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig)) {
		return errors.New("the signature does not match")
	}
	return nil
}

// DingTalkSign adds DingTalk's timestamp (ms) and sign =
// base64(HMAC-SHA256(secret, "timestamp\nsecret")) to a robot URL's query
// (url.Values.Encode URL-encodes it).
func DingTalkSign(q url.Values, secret string, t time.Time) url.Values {
	ts := strconv.FormatInt(t.UnixMilli(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "\n" + secret))
	q.Set("timestamp", ts)
	q.Set("sign", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return q
}
