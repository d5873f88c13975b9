package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/notify"
)

// A relay configured with a site's webhook announces a finding a console
// files, signed, within seconds.
func TestRelayAnnouncesFiledFinding(t *testing.T) {
	rc := newReceiver(t, "", 200)
	cfg := filepath.Join(t.TempDir(), "relay.yaml")
	yaml := fmt.Sprintf(`sites:
  - id: site-01
    district: {zh-CN: 东城区, en: Dongcheng}
    name: {zh-CN: 东湖, en: Donghu}
    time_zone: Asia/Shanghai
    cameras:
      - {id: doff1, zone: doffing_room_1, name: {zh-CN: 一脱间, en: Doffing room 1}}
    notify:
      - {kind: webhook, url: %q, secret: %q}
`, rc.srv.URL+"/hook", webhookSecret)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, ConfigFile: cfg,
		Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	post := func(path, token string, body any) *http.Response {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", r.URL()+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := post("/api/v1/login", "", map[string]string{"user": "duty", "password": r.Demo().Password})
	var login struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()

	now := time.Now().UTC()
	b, _ := json.Marshal(map[string]any{"id": "f-relay", "site": "site-01", "camera": "doff1", "zone": "doffing_room_1",
		"deviation_text": "未戴护目镜", "severity": "critical", "observer": "duty",
		"observed_at": now.Add(-time.Minute), "flagged_at": now, "deadline": now.Add(time.Hour)})
	req, _ := http.NewRequest("PUT", r.URL()+"/api/v1/findings/f-relay", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+login.Token)
	put, err := http.DefaultClient.Do(req)
	if err != nil || put.StatusCode != 201 {
		t.Fatalf("PUT finding: %v %v", put.Status, err)
	}
	put.Body.Close()

	limit := time.Now().Add(5 * time.Second)
	for {
		if _, acc := rc.counts(); acc == 1 {
			break
		}
		if time.Now().After(limit) {
			t.Fatal("no webhook within 5 s of filing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var hook notify.Webhook
	if err := notify.VerifyWebhook(webhookSecret, rc.accepted[0].Header.Get("X-Qianliyan-Signature"), rc.bodies[0], time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rc.bodies[0], &hook); err != nil || hook.Event != "finding.new" || hook.Finding.ID != "f-relay" || hook.Finding.Severity != "critical" {
		t.Fatalf("webhook %s", rc.bodies[0])
	}
}
