// Package config reads the relay's YAML configuration. Every field has a
// default, so an empty file (or none) is a working relay; unknown keys and
// bad values are errors naming the file and line.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones are checked even where the system has no tzdata

	"gopkg.in/yaml.v3"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/rtsppull"
)

// Config is the relay's configuration. config.example.yaml documents each field.
type Config struct {
	Listen  string `yaml:"listen"`
	DataDir string `yaml:"data_dir"`
	WebRTC  WebRTC `yaml:"webrtc"`
	Auth    Auth   `yaml:"auth"`
	HTTP    HTTP   `yaml:"http"`
	Hub     Hub    `yaml:"hub"`
	Limits  Limits `yaml:"limits"`
	// Shifts and Coverage are the duty room's schedule and watch policy
	// (duty.go).
	Shifts   Shifts   `yaml:"shifts"`
	Coverage Coverage `yaml:"coverage"`
	// Reports is the scheduled daily report (reports.go).
	Reports Reports `yaml:"reports"`
	Sites   []Site  `yaml:"sites"`
	Users   []User  `yaml:"users"`

	// file is where the configuration came from, for errors found later.
	file string
}

// WebRTC configures the WHIP and WHEP peers.
type WebRTC struct {
	LoopbackOnly   bool     `yaml:"loopback_only"`
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// ICE consent: a peer silent for ICEDisconnectedTimeout is
	// disconnected (a publisher's session ends), and after
	// ICEFailedTimeout more it has failed (a viewer's session ends).
	ICEDisconnectedTimeout Duration `yaml:"ice_disconnected_timeout"`
	ICEFailedTimeout       Duration `yaml:"ice_failed_timeout"`
	ICEKeepaliveInterval   Duration `yaml:"ice_keepalive_interval"`
}

// Auth configures sign-in.
type Auth struct {
	TokenTTL Duration `yaml:"token_ttl"`
	// MaxSession is how long a sign-in lasts however often its token is
	// renewed.
	MaxSession Duration `yaml:"max_session"`
	// Failed sign-ins allowed per user name from one client address, and
	// per client address, within LoginWindow; more are refused with 429
	// until the window lets them.
	LoginFailuresPerUser    int      `yaml:"login_failures_per_user"`
	LoginFailuresPerAddress int      `yaml:"login_failures_per_address"`
	LoginWindow             Duration `yaml:"login_window"`
}

// Limits caps what one user may hold open at once; more are refused with
// 429 too_many_open.
type Limits struct {
	WHEPSessionsPerUser int `yaml:"whep_sessions_per_user"`
	EventStreamsPerUser int `yaml:"event_streams_per_user"`
	LongPollsPerUser    int `yaml:"long_polls_per_user"`
}

// HTTP configures the HTTP server.
type HTTP struct {
	MaxSDPBytes int  `yaml:"max_sdp_bytes"`
	Metrics     bool `yaml:"metrics"`
}

// Hub configures the stream registry.
type Hub struct {
	ReaderQueue int      `yaml:"reader_queue"`
	MaxLag      Duration `yaml:"max_lag"`
	MaxGOP      int      `yaml:"max_gop"`
}

// Site declares an isolation site and its cameras.
type Site struct {
	ID       string         `yaml:"id"`
	District bilingual.Text `yaml:"district"`
	Name     bilingual.Text `yaml:"name"`
	TimeZone string         `yaml:"time_zone"`
	// Type is the kind of site (SiteTypes); absent is other.
	Type               string   `yaml:"type"`
	PublishTokenSHA256 []string `yaml:"publish_token_sha256"`
	Cameras            []Camera `yaml:"cameras"`
	// Notify lists where the site's findings are announced.
	Notify []Notify `yaml:"notify"`
	Line   int      `yaml:"-"`
}

// SiteTypes are the kinds of isolation site: a hotel converted for
// isolation (宾馆酒店改造), a purpose-built site (专用隔离场所), a dormitory
// or school (宿舍/学校), or other.
var SiteTypes = []string{"hotel", "purpose_built", "dormitory", "other"}

// Notify is one target of a site's finding notifications.
type Notify struct {
	// Kind is webhook (JSON signed with Secret), wecom (a WeCom group
	// robot) or dingtalk (a DingTalk custom robot, signed when Secret is set).
	Kind   string `yaml:"kind"`
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"`
}

// CheckNotify checks a notification target; its errors quote neither the
// URL (robots carry their key in it) nor the secret.
func CheckNotify(site string, i int, n Notify) error {
	return checkTarget(fmt.Sprintf("site %q notify[%d]", site, i), n)
}

// checkTarget checks a notification target, what naming it in errors.
func checkTarget(what string, n Notify) error {
	switch n.Kind {
	case "webhook", "wecom", "dingtalk":
	default:
		return fmt.Errorf("%s: kind %q: want webhook, wecom or dingtalk", what, n.Kind)
	}
	u, err := url.Parse(n.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s: url must be an absolute http:// or https:// URL", what)
	}
	switch {
	case n.Kind == "webhook" && len(n.Secret) < 16:
		return fmt.Errorf("%s: a webhook needs a secret of 16 characters or more to sign with", what)
	case n.Kind == "wecom" && n.Secret != "":
		return fmt.Errorf("%s: a WeCom robot takes no secret (its key is in the url)", what)
	}
	return nil
}

// Camera declares one camera position, and where the relay pulls its
// streams from when the camera is an RTSP camera (cameras without Main and
// Sub are published to the relay by WHIP).
type Camera struct {
	ID   string         `yaml:"id"`
	Zone string         `yaml:"zone"`
	Name bilingual.Text `yaml:"name"`
	Main *Source        `yaml:"main"`
	Sub  *Source        `yaml:"sub"`
	Line int            `yaml:"-"`
}

// StreamSource is a camera's source for one of its streams.
type StreamSource struct {
	Stream string // hub.StreamMain or hub.StreamSub
	Source
}

// Sources returns the camera's RTSP sources, main first.
func (c Camera) Sources() []StreamSource {
	var out []StreamSource
	if c.Main != nil {
		out = append(out, StreamSource{hub.StreamMain, *c.Main})
	}
	if c.Sub != nil {
		out = append(out, StreamSource{hub.StreamSub, *c.Sub})
	}
	return out
}

// Source is an RTSP stream the relay pulls.
type Source struct {
	// URL is rtsp://[user:password@]host[:port]/path.
	URL string `yaml:"url"`
	// Transport is tcp, udp, or auto (UDP, falling back to TCP).
	Transport string `yaml:"transport"`
}

// PullTransport returns the transport as rtsppull takes it.
func (s Source) PullTransport() string {
	if s.Transport == "auto" {
		return ""
	}
	return s.Transport
}

// User declares a user.
type User struct {
	Name         string   `yaml:"name"`
	Role         string   `yaml:"role"`
	PasswordHash string   `yaml:"password_hash"`
	Sites        []string `yaml:"sites"`
	Disabled     bool     `yaml:"disabled"`
	Line         int      `yaml:"-"`
}

// Defaults.
const (
	DefaultListen         = "127.0.0.1:8080"
	DefaultDataDir        = "./data"
	DefaultConnectTimeout = 15 * time.Second
	// A publisher that vanishes frees its camera (and the camera shows
	// offline) after DefaultICEDisconnectedTimeout; a viewer that vanishes
	// is removed after both timeouts, 8 s.
	DefaultICEDisconnectedTimeout = 3 * time.Second
	DefaultICEFailedTimeout       = 5 * time.Second
	DefaultICEKeepaliveInterval   = time.Second
	DefaultMaxSDPBytes            = 64 << 10
	DefaultReaderQueue            = 120
	DefaultMaxLag                 = 2 * time.Second
	DefaultMaxGOP                 = 1000
	DefaultLoginFailuresPerUser   = 5
	DefaultLoginFailuresPerAddr   = 20
	DefaultLoginWindow            = 5 * time.Minute
	// A console's wall of 25 tiles and its focus, with room for a few
	// windows more.
	DefaultWHEPSessionsPerUser = 32
	DefaultEventStreamsPerUser = 8
	DefaultLongPollsPerUser    = 8
)

// Default returns the configuration an empty file gives.
func Default() Config {
	return Config{
		Listen:  DefaultListen,
		DataDir: DefaultDataDir,
		WebRTC: WebRTC{
			ConnectTimeout:         Duration(DefaultConnectTimeout),
			ICEDisconnectedTimeout: Duration(DefaultICEDisconnectedTimeout),
			ICEFailedTimeout:       Duration(DefaultICEFailedTimeout),
			ICEKeepaliveInterval:   Duration(DefaultICEKeepaliveInterval),
		},
		Auth: Auth{
			TokenTTL:                Duration(auth.DefaultTokenTTL),
			MaxSession:              Duration(auth.DefaultMaxSession),
			LoginFailuresPerUser:    DefaultLoginFailuresPerUser,
			LoginFailuresPerAddress: DefaultLoginFailuresPerAddr,
			LoginWindow:             Duration(DefaultLoginWindow),
		},
		HTTP: HTTP{MaxSDPBytes: DefaultMaxSDPBytes, Metrics: true},
		Hub:  Hub{ReaderQueue: DefaultReaderQueue, MaxLag: Duration(DefaultMaxLag), MaxGOP: DefaultMaxGOP},
		Limits: Limits{
			WHEPSessionsPerUser: DefaultWHEPSessionsPerUser,
			EventStreamsPerUser: DefaultEventStreamsPerUser,
			LongPollsPerUser:    DefaultLongPollsPerUser,
		},
		Shifts:   DefaultShifts(),
		Coverage: DefaultCoverage(),
	}
}

// Duration is a time.Duration written as "90s", "1h".
type Duration time.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return lineError(n.Line, "%q is not a duration (write e.g. 90s, 15m, 1h)", n.Value)
	}
	*d = Duration(v)
	return nil
}

// D returns the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// lineError is an error yaml.v3 collects with the others instead of
// stopping at it.
func lineError(line int, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", line, fmt.Sprintf(format, args...))}}
}

// UnmarshalYAML records where the site is declared.
func (s *Site) UnmarshalYAML(n *yaml.Node) error {
	type plain Site
	s.Line = n.Line
	return n.Decode((*plain)(s))
}

// UnmarshalYAML records where the camera is declared.
func (c *Camera) UnmarshalYAML(n *yaml.Node) error {
	type plain Camera
	c.Line = n.Line
	return n.Decode((*plain)(c))
}

// UnmarshalYAML records where the user is declared.
func (u *User) UnmarshalYAML(n *yaml.Node) error {
	type plain User
	u.Line = n.Line
	return n.Decode((*plain)(u))
}

// Error is one problem in a configuration file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Errorf returns an error at line of the file c was loaded from, for
// problems found once the configuration meets the database.
func (c *Config) Errorf(line int, format string, args ...any) error {
	return &Error{File: c.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Load reads and checks the configuration file at path.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading configuration: %w", err)
	}
	return Parse(path, b)
}

// maxErrors keeps a badly broken file from burying the first mistakes.
const maxErrors = 20

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// parserProblems are the yaml.v3 parser's messages, whose line numbers
// (unlike the scanner's and the decoder's) count from 0.
var parserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

func isParserProblem(msg string) bool {
	for _, p := range parserProblems {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// Parse checks configuration text; name is the file name errors carry.
func Parse(name string, data []byte) (Config, error) {
	cfg := Default()
	cfg.file = name
	var errs []error
	add := func(line int, msg string) {
		errs = append(errs, &Error{File: name, Line: line, Msg: msg})
	}
	// yaml.v3 reports "line N: …"; errors carry the file name instead.
	addYAML := func(msg string) {
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			if isParserProblem(m[2]) {
				// yaml.v3 counts lines from 0 for parser (not scanner) errors.
				line++
			}
			add(line, m[2])
			return
		}
		add(1, strings.TrimPrefix(msg, "yaml: "))
	}

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		addYAML(err.Error())
		return Config{}, errors.Join(errs...)
	}
	if len(root.Content) == 0 { // empty file: all defaults
		return cfg, nil
	}
	doc := root.Content[0]
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" { // "---" alone
		return cfg, nil
	}
	if doc.Kind != yaml.MappingNode {
		add(doc.Line, "the configuration must be a mapping of keys to values")
		return Config{}, errors.Join(errs...)
	}
	checkKeys(doc, reflect.TypeOf(cfg), "", add)
	if err := doc.Decode(&cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				addYAML(e)
			}
		} else {
			addYAML(err.Error())
		}
	}
	if len(errs) == 0 {
		cfg.validate(doc, add)
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].(*Error).Line < errs[j].(*Error).Line })
		if len(errs) > maxErrors {
			errs = append(errs[:maxErrors], fmt.Errorf("%s: %d more errors", name, len(errs)-maxErrors))
		}
		return Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

// textType is a display name's: a mapping whose keys are languages.
var textType = reflect.TypeFor[bilingual.Text]()

// checkKeys reports every mapping key that names no field of t, with the
// keys that would have been understood there.
func checkKeys(n *yaml.Node, t reflect.Type, path string, add func(int, string)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		var known []string
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || tag == "-" || tag == "" {
				continue
			}
			fields[tag] = f.Type
			known = append(known, tag)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				where := ""
				if path != "" {
					where = " in " + path
				}
				add(k.Line, fmt.Sprintf("unknown key %q%s (known: %s)", k.Value, where, strings.Join(known, ", ")))
				continue
			}
			checkKeys(v, ft, join(path, k.Value), add)
		}
	case n.Kind == yaml.MappingNode && t == textType:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; !bilingual.Known(k.Value) {
				add(k.Line, fmt.Sprintf("unknown key %q in %s (known: %s)", k.Value, path, strings.Join(bilingual.Languages, ", ")))
			}
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, item := range n.Content {
			checkKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), add)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	userPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`)
	hexSHA256   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// CheckID checks a site or camera id (or a zone key); what names it in the error.
func CheckID(what, id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%s %q: want lower-case letters, digits, '-' or '_', up to 64", what, id)
	}
	return nil
}

// CheckUserName checks a user name.
func CheckUserName(name string) error {
	if !userPattern.MatchString(name) {
		return fmt.Errorf("user name %q: want letters, digits, '.', '_', '@' or '-', up to 64", name)
	}
	return nil
}

// CheckSource checks an RTSP source of camera site/camera's stream. Its
// errors never quote the password.
func CheckSource(site, camera, stream string, src Source) error {
	switch src.Transport {
	case "", "auto", "tcp", "udp":
	default:
		return fmt.Errorf("camera %s/%s %s: transport %q: want tcp, udp or auto", site, camera, stream, src.Transport)
	}
	if src.URL == "" {
		return fmt.Errorf("camera %s/%s %s: url is missing", site, camera, stream)
	}
	key := hub.Key{Site: site, Camera: camera, Stream: stream}
	return rtsppull.Source{Key: key, URL: src.URL, Transport: src.PullTransport()}.Validate()
}

// validate checks values once the structure decoded. Lines of scalar
// settings are looked up in the document.
func (c *Config) validate(doc *yaml.Node, add func(int, string)) {
	at := func(path ...string) int { return lineOf(doc, path...) }

	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		add(at("listen"), fmt.Sprintf("listen %q: want host:port, e.g. 127.0.0.1:8080", c.Listen))
	}
	if c.DataDir == "" {
		add(at("data_dir"), "data_dir must not be empty")
	}
	if d := c.WebRTC.ConnectTimeout.D(); d < time.Second || d > 5*time.Minute {
		add(at("webrtc", "connect_timeout"), fmt.Sprintf("connect_timeout %v: want 1s to 5m", d))
	}
	if d := c.WebRTC.ICEDisconnectedTimeout.D(); d < time.Second || d > time.Minute {
		add(at("webrtc", "ice_disconnected_timeout"), fmt.Sprintf("ice_disconnected_timeout %v: want 1s to 1m", d))
	}
	if d := c.WebRTC.ICEFailedTimeout.D(); d < time.Second || d > 5*time.Minute {
		add(at("webrtc", "ice_failed_timeout"), fmt.Sprintf("ice_failed_timeout %v: want 1s to 5m", d))
	}
	if d := c.WebRTC.ICEKeepaliveInterval.D(); d < 100*time.Millisecond || d >= c.WebRTC.ICEDisconnectedTimeout.D() {
		add(at("webrtc", "ice_keepalive_interval"), fmt.Sprintf("ice_keepalive_interval %v: want 100ms or more, and less than ice_disconnected_timeout", d))
	}
	if d := c.Auth.TokenTTL.D(); d < time.Minute || d > 30*24*time.Hour {
		add(at("auth", "token_ttl"), fmt.Sprintf("token_ttl %v: want 1m to 720h", d))
	}
	if d := c.Auth.MaxSession.D(); d < c.Auth.TokenTTL.D() || d > 30*24*time.Hour {
		add(at("auth", "max_session"), fmt.Sprintf("max_session %v: want token_ttl (%v) to 720h", d, c.Auth.TokenTTL.D()))
	}
	if n := c.Auth.LoginFailuresPerUser; n < 1 || n > 1000 {
		add(at("auth", "login_failures_per_user"), fmt.Sprintf("login_failures_per_user %d: want 1 to 1000", n))
	}
	if n := c.Auth.LoginFailuresPerAddress; n < 1 || n > 100000 {
		add(at("auth", "login_failures_per_address"), fmt.Sprintf("login_failures_per_address %d: want 1 to 100000", n))
	}
	if d := c.Auth.LoginWindow.D(); d < time.Second || d > 24*time.Hour {
		add(at("auth", "login_window"), fmt.Sprintf("login_window %v: want 1s to 24h", d))
	}
	for _, l := range []struct {
		key string
		n   int
	}{
		{"whep_sessions_per_user", c.Limits.WHEPSessionsPerUser},
		{"event_streams_per_user", c.Limits.EventStreamsPerUser},
		{"long_polls_per_user", c.Limits.LongPollsPerUser},
	} {
		if l.n < 1 || l.n > 100000 {
			add(at("limits", l.key), fmt.Sprintf("%s %d: want 1 to 100000", l.key, l.n))
		}
	}
	if n := c.HTTP.MaxSDPBytes; n < 1024 || n > 1<<20 {
		add(at("http", "max_sdp_bytes"), fmt.Sprintf("max_sdp_bytes %d: want 1024 to 1048576", n))
	}
	if n := c.Hub.ReaderQueue; n < 1 || n > 10000 {
		add(at("hub", "reader_queue"), fmt.Sprintf("reader_queue %d: want 1 to 10000", n))
	}
	if d := c.Hub.MaxLag.D(); d < 100*time.Millisecond || d > time.Minute {
		add(at("hub", "max_lag"), fmt.Sprintf("max_lag %v: want 100ms to 1m", d))
	}
	if n := c.Hub.MaxGOP; n < 1 || n > 10000 {
		add(at("hub", "max_gop"), fmt.Sprintf("max_gop %d: want 1 to 10000", n))
	}

	c.validateDuty(at, add)
	c.validateReports(at, add)

	sites := map[string]int{}
	for _, s := range c.Sites {
		switch prev, dup := sites[s.ID]; {
		case !idPattern.MatchString(s.ID):
			add(s.Line, fmt.Sprintf("site id %q: want lower-case letters, digits, '-' or '_', up to 64", s.ID))
		case dup:
			add(s.Line, fmt.Sprintf("site %q is already declared at line %d", s.ID, prev))
		default:
			sites[s.ID] = s.Line
		}
		checkName(s.Line, "site "+s.ID+" name", s.Name, add)
		checkName(s.Line, "site "+s.ID+" district", s.District, add)
		if s.TimeZone == "" {
			add(s.Line, fmt.Sprintf("site %q has no time_zone (e.g. Asia/Shanghai)", s.ID))
		} else if _, err := time.LoadLocation(s.TimeZone); err != nil {
			add(s.Line, fmt.Sprintf("site %q: unknown time_zone %q", s.ID, s.TimeZone))
		}
		if s.Type != "" && !slices.Contains(SiteTypes, s.Type) {
			add(s.Line, fmt.Sprintf("site %q: type %q: want one of %s", s.ID, s.Type, strings.Join(SiteTypes, ", ")))
		}
		for _, h := range s.PublishTokenSHA256 {
			if !hexSHA256.MatchString(h) {
				add(s.Line, fmt.Sprintf("site %q: publish_token_sha256 entry %q is not 64 lower-case hex digits", s.ID, h))
			}
		}
		for i, n := range s.Notify {
			if err := CheckNotify(s.ID, i, n); err != nil {
				add(s.Line, err.Error())
			}
		}
		cams := map[string]int{}
		for _, cam := range s.Cameras {
			switch prev, dup := cams[cam.ID]; {
			case !idPattern.MatchString(cam.ID):
				add(cam.Line, fmt.Sprintf("camera id %q: want lower-case letters, digits, '-' or '_', up to 64", cam.ID))
			case dup:
				add(cam.Line, fmt.Sprintf("camera %s/%s is already declared at line %d", s.ID, cam.ID, prev))
			default:
				cams[cam.ID] = cam.Line
			}
			if !idPattern.MatchString(cam.Zone) {
				add(cam.Line, fmt.Sprintf("camera %s/%s: zone %q: want a key like doffing_room_1", s.ID, cam.ID, cam.Zone))
			}
			checkName(cam.Line, "camera "+s.ID+"/"+cam.ID+" name", cam.Name, add)
			for _, src := range cam.Sources() {
				if err := CheckSource(s.ID, cam.ID, src.Stream, src.Source); err != nil {
					add(cam.Line, err.Error())
				}
			}
		}
	}

	users := map[string]int{}
	for _, u := range c.Users {
		switch prev, dup := users[u.Name]; {
		case !userPattern.MatchString(u.Name):
			add(u.Line, fmt.Sprintf("user name %q: want letters, digits, '.', '_', '@' or '-', up to 64", u.Name))
		case dup:
			add(u.Line, fmt.Sprintf("user %q is already declared at line %d", u.Name, prev))
		default:
			users[u.Name] = u.Line
		}
		role, err := auth.ParseRole(u.Role)
		if err != nil {
			add(u.Line, fmt.Sprintf("user %q: %v", u.Name, err))
		}
		if u.PasswordHash != "" {
			if err := auth.CheckPasswordHash(u.PasswordHash); err != nil {
				add(u.Line, fmt.Sprintf("user %q: password_hash is %v", u.Name, err))
			}
		}
		if role == auth.RoleSiteManager && len(u.Sites) == 0 {
			add(u.Line, fmt.Sprintf("user %q is a site_manager with no sites", u.Name))
		}
		if role != auth.RoleSiteManager && role != "" && len(u.Sites) > 0 {
			add(u.Line, fmt.Sprintf("user %q: sites apply to site managers only; a %s sees every site", u.Name, role))
		}
	}
}

func checkName(line int, what string, n bilingual.Text, add func(int, string)) {
	if !n.Complete() {
		add(line, what+" needs both zh-CN and en")
	}
}

// lineOf returns the line of the value at path in a mapping, or of the
// deepest mapping on the way (1 for the top).
func lineOf(n *yaml.Node, path ...string) int {
	line := 1
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				n, line, found = n.Content[i+1], n.Content[i+1].Line, true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}
