package config

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const examplePath = "../config.example.yaml"

func TestExampleParsesAndDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(examplePath, data)
	if err != nil {
		t.Fatalf("example does not parse:\n%v", err)
	}
	// The settings shown are the defaults.
	def := Default()
	if cfg.Listen != def.Listen || cfg.DataDir != def.DataDir || cfg.WebRTC != def.WebRTC ||
		cfg.Auth != def.Auth || cfg.HTTP != def.HTTP || cfg.Hub != def.Hub || cfg.Limits != def.Limits {
		t.Fatalf("example settings differ from the defaults:\n%+v\n%+v", cfg, def)
	}
	if len(cfg.Sites) != 1 || len(cfg.Sites[0].Cameras) != 2 || len(cfg.Users) != 1 || cfg.Users[0].Sites[0] != "site-01" {
		t.Fatalf("example declarations: %+v", cfg)
	}
	if srcs := cfg.Sites[0].Cameras[0].Sources(); len(srcs) != 2 || srcs[0].Stream != "main" || srcs[0].PullTransport() != "" || srcs[1].PullTransport() != "tcp" {
		t.Fatalf("example camera sources: %+v", srcs)
	}
	// Every key the relay understands appears in the example.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	for _, key := range keysOf(reflect.TypeOf(Config{}), "") {
		if !hasPath(root.Content[0], strings.Split(key, ".")) {
			t.Errorf("key %s is not in %s", key, examplePath)
		}
	}
}

// keysOf lists the dotted yaml keys of t, descending into structs and into
// the element type of slices.
func keysOf(t reflect.Type, prefix string) []string {
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		key := join(prefix, tag)
		out = append(out, key)
		out = append(out, keysOf(f.Type, key)...)
	}
	return out
}

// hasPath reports whether the path of keys exists, looking into the first
// element of sequences.
func hasPath(n *yaml.Node, path []string) bool {
	if len(path) == 0 {
		return true
	}
	if n.Kind == yaml.SequenceNode {
		return len(n.Content) > 0 && hasPath(n.Content[0], path)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == path[0] {
			return hasPath(n.Content[i+1], path[1:])
		}
	}
	return false
}

func TestEmptyFileGivesDefaults(t *testing.T) {
	for _, text := range []string{"", "# nothing here\n", "---\n"} {
		cfg, err := Parse("relay.yaml", []byte(text))
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		def := Default()
		def.file = "relay.yaml"
		if !reflect.DeepEqual(cfg, def) {
			t.Fatalf("%q: got %+v", text, cfg)
		}
	}
}

func TestOverrides(t *testing.T) {
	cfg, err := Parse("relay.yaml", []byte("listen: 0.0.0.0:9000\nwebrtc:\n  loopback_only: true\nauth:\n  token_ttl: 15m\nhub:\n  reader_queue: 30\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:9000" || !cfg.WebRTC.LoopbackOnly || cfg.Auth.TokenTTL.D() != 15*time.Minute ||
		cfg.Hub.ReaderQueue != 30 || cfg.Hub.MaxGOP != DefaultMaxGOP || cfg.WebRTC.ConnectTimeout.D() != DefaultConnectTimeout {
		t.Fatalf("got %+v", cfg)
	}
}

const hash = "$2a$10$J6rZ61DQQTU4Es/GymVgCeAO20ZNgKxsNV8xuN2E3qzIXz.A.pgYm"

const goodSite = `sites:
  - id: site-01
    district: {zh-CN: 东城区, en: Dongcheng}
    name: {zh-CN: 东湖, en: Donghu}
    time_zone: Asia/Shanghai
    cameras:
      - id: doff1
        zone: doffing_room_1
        name: {zh-CN: 一脱间, en: Doffing room 1}
`

func TestErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name string
		text string
		line int
		want string
	}{
		{"unknown top key", "listen: 127.0.0.1:1\nlisten_addr: x\n", 2, `unknown key "listen_addr"`},
		{"unknown nested key", "hub:\n  reader_queue: 5\n  queue: 5\n", 3, `unknown key "queue" in hub (known: reader_queue, max_lag, max_gop)`},
		{"unknown key in a camera", goodSite + "        angle: 30\n", 10, `unknown key "angle" in sites[0].cameras[0]`},
		{"unclosed list", "hub:\n  reader_queue: [1\n", 2, "did not find expected ',' or ']'"},
		{"bad indentation", "hub:\n  reader_queue: 1\n max_gop: 2\n", 3, "did not find expected key"},
		{"tab indentation", "hub:\n\treader_queue: 1\n", 2, "found character that cannot start any token"},
		{"duplicate key", "listen: a:1\nlisten: b:2\n", 2, `"listen" already defined`},
		{"wrong type", "hub:\n  reader_queue: lots\n", 2, "cannot unmarshal"},
		{"bad duration", "auth:\n  token_ttl: an hour\n", 2, `"an hour" is not a duration`},
		{"duration out of range", "auth:\n  token_ttl: 1s\n", 2, "token_ttl 1s: want 1m to 720h"},
		{"bad listen", "\nlisten: 8080\n", 2, `listen "8080": want host:port`},
		{"queue out of range", "hub:\n  max_gop: 0\n", 2, "max_gop 0"},
		{"lag out of range", "hub:\n  max_lag: 10ms\n", 2, "max_lag 10ms: want 100ms to 1m"},
		{"sdp limit out of range", "http:\n  max_sdp_bytes: 10\n", 2, "max_sdp_bytes 10"},
		{"not a mapping", "- a\n- b\n", 1, "must be a mapping"},
		{"bad site id", strings.Replace(goodSite, "id: site-01", "id: Site 01", 1), 2, `site id "Site 01"`},
		{"unknown time zone", strings.Replace(goodSite, "Asia/Shanghai", "Asia/Atlantis", 1), 2, `unknown time_zone "Asia/Atlantis"`},
		{"unknown site type", strings.Replace(goodSite, "time_zone: Asia/Shanghai", "time_zone: Asia/Shanghai\n    type: castle", 1), 2, `type "castle": want one of hotel, purpose_built, dormitory, other`},
		{"name in an unknown language", strings.Replace(goodSite, "en: Donghu}", "en: Donghu, fr: Donghu}", 1), 4, `unknown key "fr" in sites[0].name (known: zh-CN, en)`},
		{"name lacking a language", strings.Replace(goodSite, "en: Donghu", "en: ''", 1), 2, "site site-01 name needs both zh-CN and en"},
		{"duplicate camera", goodSite + "      - {id: doff1, zone: x, name: {zh-CN: a, en: b}}\n", 10, "camera site-01/doff1 is already declared at line 7"},
		{"bad zone", strings.Replace(goodSite, "zone: doffing_room_1", "zone: Doffing Room", 1), 7, `zone "Doffing Room"`},
		{"bad token hash", strings.Replace(goodSite, "    cameras:", "    publish_token_sha256: [abc]\n    cameras:", 1), 2, `"abc" is not 64 lower-case hex digits`},
		{"unknown role", "users:\n  - name: li\n    role: root\n", 2, `user "li": role "root"`},
		{"bad password hash", "users:\n  - {name: li, role: duty, password_hash: secret}\n", 2, "password_hash is not a bcrypt hash"},
		{"site manager without sites", "users:\n  - {name: li, role: site_manager}\n", 2, "site_manager with no sites"},
		{"sites on a duty user", "users:\n  - {name: li, role: duty, sites: [site-01]}\n", 2, "sites apply to site managers only"},
		{"duplicate user", "users:\n  - {name: li, role: duty}\n  - {name: li, role: admin}\n", 3, `user "li" is already declared at line 2`},
		{"bad user name", "users:\n  - {name: 'li wei', role: duty}\n", 2, `user name "li wei"`},
		{"http camera url", goodSite + "        main: {url: 'http://cam/live'}\n", 7, "scheme must be rtsp"},
		{"camera url without url", goodSite + "        sub: {transport: tcp}\n", 7, "camera site-01/doff1 sub: url is missing"},
		{"camera transport", goodSite + "        main: {url: 'rtsp://cam/live', transport: quic}\n", 7, `transport "quic": want tcp, udp or auto`},
		{"unknown source key", goodSite + "        main: {url: 'rtsp://cam/live', user: x}\n", 10, `unknown key "user" in sites[0].cameras[0].main`},
		{"keepalive not below disconnect", "webrtc:\n  ice_keepalive_interval: 5s\n", 2, "less than ice_disconnected_timeout"},
		{"failed timeout", "webrtc:\n  ice_failed_timeout: 0s\n", 2, "ice_failed_timeout 0s"},
		{"login limit", "auth:\n  login_failures_per_user: 0\n", 2, "login_failures_per_user 0"},
		{"login window", "auth:\n  login_window: 10h\n  login_failures_per_address: -1\n", 3, "login_failures_per_address -1"},
		{"session shorter than a token", "auth:\n  token_ttl: 2h\n  max_session: 1h\n", 3, "max_session 1h0m0s: want token_ttl (2h0m0s) to 720h"},
		{"no WHEP sessions", "limits:\n  whep_sessions_per_user: 0\n", 2, "whep_sessions_per_user 0: want 1 to 100000"},
		{"event streams", "limits:\n  event_streams_per_user: -3\n", 2, "event_streams_per_user -3"},
		{"long polls", "limits:\n  long_polls_per_user: 100001\n", 2, "long_polls_per_user 100001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("relay.yaml", []byte(c.text))
			if err == nil {
				t.Fatal("accepted")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v carries no file:line", err)
			}
			if ce.File != "relay.yaml" || ce.Line != c.line || !strings.Contains(ce.Msg, c.want) {
				t.Fatalf("got %q, want relay.yaml:%d: …%s…", err, c.line, c.want)
			}
		})
	}
}

func TestSourceErrorsHideThePassword(t *testing.T) {
	text := goodSite + "        main: {url: 'rtsp://admin:pa55word@cam:554/live', transport: quic}\n" +
		"        sub: {url: 'ftp://admin:pa55word@cam/live'}\n"
	_, err := Parse("relay.yaml", []byte(text))
	if err == nil {
		t.Fatal("accepted")
	}
	if strings.Contains(err.Error(), "pa55word") {
		t.Fatalf("the password is in the error: %v", err)
	}
	if !strings.Contains(err.Error(), "ftp://admin:xxxxx@cam/live") {
		t.Fatalf("the error does not name the URL, redacted: %v", err)
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load("/nonexistent/relay.yaml"); err == nil {
		t.Fatal("loaded a missing file")
	}
	cfg, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Errorf(7, "user %s names unknown site %s", "a", "b"); err.Error() != examplePath+":7: user a names unknown site b" {
		t.Fatalf("Errorf: %v", err)
	}
}
