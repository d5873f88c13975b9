package notify_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/notify"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
)

var t0 = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// receiver is a notification target: it answers with the statuses given in
// turn (the last one from then on) and keeps what it accepted.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	body     string // the answer's body
	requests int
	accepted []*http.Request
	bodies   [][]byte
	srv      *httptest.Server
}

func newReceiver(t *testing.T, body string, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses, body: body}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		status := rc.statuses[min(rc.requests, len(rc.statuses)-1)]
		rc.requests++
		if status == 200 {
			rc.accepted = append(rc.accepted, r)
			rc.bodies = append(rc.bodies, b)
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, rc.body)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) counts() (requests, accepted int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests, len(rc.accepted)
}

type fixture struct {
	st    *findings.Store
	clock *clock
	n     *notify.Notifier
	logs  *bytes.Buffer
}

var duty = auth.Principal{Name: "duty", Role: auth.RoleDuty}

func newFixture(t *testing.T, targets ...notify.Target) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, sites := storetest.Open(t)
	if err := sites.PutSiteInfo(ctx, store.Site{ID: "site-01", Name: bilingual.New("东湖", "Donghu"), TimeZone: "Asia/Shanghai"}); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: t0}
	st, err := findings.New(findings.Config{DB: db, Sites: sites, EvidenceDir: filepath.Join(dir, "evidence"), Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	n := notify.New(notify.Config{DB: db, Findings: st, Targets: map[string][]notify.Target{"site-01": targets},
		Now: c.now, Interval: 20 * time.Millisecond, Backoff: time.Second, MaxBackoff: time.Minute,
		Log: zerolog.New(&syncWriter{w: logs}).Level(zerolog.DebugLevel)})
	return &fixture{st: st, clock: c, n: n, logs: logs}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (f *fixture) file(t *testing.T, id string, deadline time.Duration) {
	t.Helper()
	d := findings.Draft{ID: id, Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", DeviationText: "脱卸顺序错误",
		Severity: "major", Observer: "duty", ObservedAt: f.clock.now().Add(-time.Minute), FlaggedAt: f.clock.now(),
		Deadline: f.clock.now().Add(deadline)}
	if _, _, err := f.st.Create(context.Background(), duty, d); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) round(t *testing.T) {
	t.Helper()
	if err := f.n.Round(context.Background()); err != nil {
		t.Fatal(err)
	}
}

const webhookSecret = "a-webhook-secret-of-some-length"

func TestWebhookRetriedUntilDeliveredOnce(t *testing.T) {
	rc := newReceiver(t, "", 500, 200)
	f := newFixture(t, notify.Target{Kind: "webhook", URL: rc.srv.URL + "/hook", Secret: webhookSecret})
	f.file(t, "f1", 4*time.Hour)
	f.round(t) // 500
	if req, acc := rc.counts(); req != 1 || acc != 0 {
		t.Fatalf("after the first round: %d requests, %d accepted", req, acc)
	}
	f.round(t) // not yet due: backoff
	if req, _ := rc.counts(); req != 1 {
		t.Fatalf("retried before its backoff: %d requests", req)
	}
	f.clock.add(2 * time.Second)
	f.round(t) // 200
	f.clock.add(time.Hour)
	f.round(t)
	f.round(t)
	req, acc := rc.counts()
	if req != 2 || acc != 1 {
		t.Fatalf("%d requests, %d accepted; want 2 and exactly 1", req, acc)
	}
	r, body := rc.accepted[0], rc.bodies[0]
	if err := notify.VerifyWebhook(webhookSecret, r.Header.Get("X-Qianliyan-Signature"), body, f.clock.now(), 2*time.Hour); err != nil {
		t.Fatalf("signature: %v (%s)", err, r.Header.Get("X-Qianliyan-Signature"))
	}
	if err := notify.VerifyWebhook("another secret", r.Header.Get("X-Qianliyan-Signature"), body, f.clock.now(), 2*time.Hour); err == nil {
		t.Fatal("the signature verifies with another secret")
	}
	if err := notify.VerifyWebhook(webhookSecret, r.Header.Get("X-Qianliyan-Signature"), append(body, ' '), f.clock.now(), 2*time.Hour); err == nil {
		t.Fatal("the signature verifies another body")
	}
	var hook notify.Webhook
	if err := json.Unmarshal(body, &hook); err != nil || hook.Event != "finding.new" || hook.Finding.ID != "f1" || hook.Finding.Status != findings.StatusOpen {
		t.Fatalf("webhook body %s", body)
	}
	if r.Header.Get("X-Qianliyan-Delivery") == "" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", r.Header)
	}
	if strings.Contains(f.logs.String(), webhookSecret) || strings.Contains(f.logs.String(), "/hook") {
		t.Errorf("the log holds the secret or the URL:\n%s", f.logs)
	}
}

func TestRobots(t *testing.T) {
	wecom := newReceiver(t, `{"errcode":0,"errmsg":"ok"}`, 200)
	ding := newReceiver(t, `{"errcode":0,"errmsg":"ok"}`, 200)
	const dingSecret = "SECdingtalk-secret"
	f := newFixture(t,
		notify.Target{Kind: "wecom", URL: wecom.srv.URL + "/cgi-bin/webhook/send?key=wecom-key-1"},
		notify.Target{Kind: "dingtalk", URL: ding.srv.URL + "/robot/send?access_token=ding-token-1", Secret: dingSecret})
	f.file(t, "f1", 4*time.Hour)
	f.round(t)
	if _, acc := wecom.counts(); acc != 1 {
		t.Fatalf("WeCom got %d", acc)
	}
	if _, acc := ding.counts(); acc != 1 {
		t.Fatalf("DingTalk got %d", acc)
	}
	var wm struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Content string `json:"content"`
		} `json:"markdown"`
	}
	if err := json.Unmarshal(wecom.bodies[0], &wm); err != nil || wm.MsgType != "markdown" || !strings.Contains(wm.Markdown.Content, "脱卸顺序错误") ||
		!strings.Contains(wm.Markdown.Content, "2026-11-24 20:00") || wecom.accepted[0].URL.Query().Get("key") != "wecom-key-1" {
		t.Errorf("WeCom message %s", wecom.bodies[0])
	}
	var dm struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"markdown"`
	}
	if err := json.Unmarshal(ding.bodies[0], &dm); err != nil || dm.MsgType != "markdown" || dm.Markdown.Title == "" || !strings.Contains(dm.Markdown.Text, "f1") {
		t.Errorf("DingTalk message %s", ding.bodies[0])
	}
	// DingTalk's signed URL: sign = base64(HMAC-SHA256(secret, "timestamp\nsecret")).
	q := ding.accepted[0].URL.Query()
	m := hmac.New(sha256.New, []byte(dingSecret))
	m.Write([]byte(q.Get("timestamp") + "\n" + dingSecret))
	if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); q.Get("sign") != want || q.Get("access_token") != "ding-token-1" ||
		q.Get("timestamp") != "1795507200000" {
		t.Errorf("DingTalk query %v, want sign %s", q, want)
	}
	if !strings.Contains(ding.accepted[0].URL.RawQuery, "sign="+strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(q.Get("sign"))) {
		t.Errorf("sign is not URL-encoded: %s", ding.accepted[0].URL.RawQuery)
	}
	if logs := f.logs.String(); strings.Contains(logs, "wecom-key-1") || strings.Contains(logs, "ding-token-1") || strings.Contains(logs, dingSecret) {
		t.Errorf("the log holds a key or secret:\n%s", logs)
	}
}

func TestRobotRefusalIsRetried(t *testing.T) {
	// WeCom answers 200 with an error code when it refuses.
	rc := newReceiver(t, `{"errcode":93000,"errmsg":"invalid webhook url"}`, 200)
	f := newFixture(t, notify.Target{Kind: "wecom", URL: rc.srv.URL + "/send?key=k"})
	f.file(t, "f1", 4*time.Hour)
	f.round(t)
	f.clock.add(2 * time.Second)
	f.round(t)
	if req, _ := rc.counts(); req != 2 {
		t.Fatalf("%d requests, want a retry after the refusal", req)
	}
	if !strings.Contains(f.logs.String(), "errcode 93000") {
		t.Errorf("the refusal is not logged:\n%s", f.logs)
	}
}

func TestRemindersAndReopening(t *testing.T) {
	rc := newReceiver(t, "", 200)
	f := newFixture(t, notify.Target{Kind: "webhook", URL: rc.srv.URL, Secret: webhookSecret})
	f.file(t, "long", 10*time.Hour) // reminded at a quarter left (2.5 h) and at 2 h
	f.file(t, "short", time.Hour)   // its new message said the deadline: no reminder
	events := func() []string {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		var out []string
		for _, b := range rc.bodies {
			var h notify.Webhook
			json.Unmarshal(b, &h)
			out = append(out, h.Finding.ID+":"+h.Event)
		}
		return out
	}
	steps := []struct {
		at   time.Duration // from t0
		want string
	}{
		{0, "long:finding.new,short:finding.new"},
		{7 * time.Hour, "long:finding.new,short:finding.new"},
		{7*time.Hour + 31*time.Minute, "long:finding.new,short:finding.new,long:finding.due_soon"},
		{7*time.Hour + 45*time.Minute, "long:finding.new,short:finding.new,long:finding.due_soon"},
		{8*time.Hour + time.Minute, "long:finding.new,short:finding.new,long:finding.due_soon,long:finding.due_soon"},
		{11 * time.Hour, "long:finding.new,short:finding.new,long:finding.due_soon,long:finding.due_soon"},
	}
	for _, s := range steps {
		f.clock.set(t0.Add(s.at))
		f.round(t)
		f.round(t)
		if got := strings.Join(events(), ","); got != s.want {
			t.Fatalf("at +%v: %s, want %s", s.at, got, s.want)
		}
	}
	ctx := context.Background()
	mgr := auth.Principal{Name: "mgr", Role: auth.RoleSiteManager, Sites: []string{"site-01"}}
	for _, a := range []findings.Action{findings.ActAcknowledge, findings.ActRectify} {
		if _, err := f.st.Act(ctx, mgr, "long", findings.Request{ActionID: string(a), Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	later := f.clock.now().Add(24 * time.Hour)
	if _, err := f.st.Act(ctx, duty, "long", findings.Request{ActionID: "re", Action: findings.ActReopen, Deadline: &later}); err != nil {
		t.Fatal(err)
	}
	f.round(t)
	if got := events(); got[len(got)-1] != "long:finding.reopened" || len(got) != 5 {
		t.Fatalf("after reopening: %v", got)
	}
}

func TestGivesUpAfterADay(t *testing.T) {
	rc := newReceiver(t, "", 503)
	f := newFixture(t, notify.Target{Kind: "webhook", URL: rc.srv.URL, Secret: webhookSecret})
	f.file(t, "f1", 48*time.Hour)
	for range 5 {
		f.round(t)
		f.clock.add(time.Minute) // the backoff is capped at a minute here
	}
	req, _ := rc.counts()
	if req != 5 {
		t.Fatalf("%d attempts in 5 capped backoffs, want 5", req)
	}
	f.clock.add(24 * time.Hour)
	f.round(t) // the last try, then given up
	f.clock.add(time.Hour)
	f.round(t)
	if after, _ := rc.counts(); after != req+1 {
		t.Fatalf("%d attempts after a day, want %d (one last, then none)", after, req+1)
	}
	if !strings.Contains(f.logs.String(), "notification given up") {
		t.Errorf("giving up is not logged")
	}
}

func TestRunWakesOnChangeAndStops(t *testing.T) {
	rc := newReceiver(t, "", 200)
	f := newFixture(t, notify.Target{Kind: "webhook", URL: rc.srv.URL, Secret: webhookSecret})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.n.Run(ctx) }()
	f.file(t, "f1", 4*time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, acc := rc.counts(); acc == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not delivered within 5 s of filing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop within 5 s of cancelling")
	}
}
