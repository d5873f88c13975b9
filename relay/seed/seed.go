// Package seed writes a duty room's relay with months of recorded work: a
// relay.yaml (sites over districts, cameras, shifts, supervisors, duty
// officers, site managers) and the relay's data directory (relay.db through
// relay/store's migrations, findings with their whole history and
// evidence, checklist runs, review marks), so that the supervisors'
// workspace can be tried, tested and timed on a record of realistic size
// (bench seed; the browser tests of issue 13).
//
// The same Seed and Now give the same database, row for row; only the
// password hashes of relay.yaml differ (bcrypt salts). The rows are written
// straight in the schema of the tables' owners (relay/findings, relay/runs,
// relay/review), in one transaction with prepared statements, which is what
// makes a million findings a matter of minutes.
package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/checklist"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/config"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/store"
)

// Options says what to seed. Zero fields take the defaults of bench seed.
type Options struct {
	Sites    int // 119
	Findings int // 10000
	Days     int // 90: findings observed over the days before Now
	// EventsPerFinding is the mean length of a finding's history the fill
	// aims at (5): the lifecycle's events (created, acknowledged, rectified,
	// verified, reopened…) and, past them, the supervisors' review marks and
	// comments. Recent findings have short histories, old ones long.
	EventsPerFinding float64
	Seed             int64     // 1
	Now              time.Time // the record ends here; time.Now to the minute when zero
	// Listen is relay.yaml's listen address (127.0.0.1:8080).
	Listen string
	// Progress, when set, is told how far the fill is (the 1M path takes
	// minutes).
	Progress func(findings int)
}

// Summary is what was written.
type Summary struct {
	Config  string    `json:"config"`   // DIR/relay.yaml
	DataDir string    `json:"data_dir"` // DIR/data
	Now     time.Time `json:"now"`
	Seed    int64     `json:"seed"`

	Sites     int `json:"sites"`
	Districts int `json:"districts"`
	Cameras   int `json:"cameras"`
	Findings  int `json:"findings"`
	Events    int `json:"events"`
	Runs      int `json:"runs"`
	Reviewed  int `json:"reviewed"`
	Comments  int `json:"comments"`
	Outcomes  int `json:"outcomes"`

	Users []User `json:"users"`
	// PublishToken is the token every seeded site's gateway may publish
	// with (its SHA-256 is in relay.yaml).
	PublishToken string `json:"publish_token"`
	// Snapshot and Clip are the SHA-256 of the evidence every finding
	// shares.
	Snapshot string `json:"snapshot"`
	Clip     string `json:"clip"`

	Took time.Duration `json:"took_ns"`
	// Indexing is the part of Took the search's index took.
	Indexing time.Duration `json:"indexing_ns"`
}

// ConfigFile and DataDir are where Write puts the relay's configuration
// and data in its directory.
const (
	ConfigFile = "relay.yaml"
	DataDir    = "data"
	// SummaryFile is the Summary as JSON, for what times or tests the
	// record later (bench review takes Now from it).
	SummaryFile = "seed.json"
)

// ReadSummary reads the summary Write left in dir.
func ReadSummary(dir string) (Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return Summary{}, fmt.Errorf("reading the seed's summary: %w", err)
	}
	var sum Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		return Summary{}, fmt.Errorf("reading the seed's summary %s: %w", filepath.Join(dir, SummaryFile), err)
	}
	return sum, nil
}

func (o *Options) defaults() {
	if o.Sites <= 0 {
		o.Sites = 119
	}
	if o.Findings < 0 {
		o.Findings = 0
	} else if o.Findings == 0 {
		o.Findings = 10000
	}
	if o.Days <= 0 {
		o.Days = 90
	}
	if o.EventsPerFinding <= 0 {
		o.EventsPerFinding = 5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Now().Truncate(time.Minute)
	}
	o.Now = o.Now.UTC()
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8080"
	}
}

// Write seeds dir: dir/relay.yaml and dir/data. dir/data must not hold a
// relay database already.
func Write(ctx context.Context, dir string, o Options) (Summary, error) {
	begun := time.Now()
	o.defaults()
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
	}
	data := filepath.Join(dir, DataDir)
	dbPath := filepath.Join(data, "relay.db")
	if _, err := os.Stat(dbPath); err == nil {
		return Summary{}, fmt.Errorf("seeding %s: %s exists; seed writes a new relay database", dir, dbPath)
	} else if !errors.Is(err, os.ErrNotExist) {
		return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
	}
	lib, err := checklist.Defaults()
	if err != nil {
		return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
	}

	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x51ee1))
	sites := makeSites(rng, o.Sites)
	users := makeUsers(sites)
	token, tokenSHA := publishToken(rng)
	hashes := make(map[string]string, len(users))
	for _, u := range users {
		// The lowest cost: a seeded room guards no secrets, and tests sign
		// in often.
		if hashes[u.Name], err = auth.HashPasswordCost(u.Password, 4); err != nil {
			return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
		}
	}
	yamlText := relayYAML(o.Listen, data, sites, users, hashes, tokenSHA)
	cfgPath := filepath.Join(dir, ConfigFile)
	// The relay must take it as it is: checked here, not at its start.
	cfg, err := config.Parse(cfgPath, []byte(yamlText))
	if err != nil {
		return Summary{}, fmt.Errorf("seeding %s: the configuration written does not load: %w", dir, err)
	}
	if err := os.WriteFile(cfgPath, []byte(yamlText), 0o600); err != nil {
		return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
	}

	ev, err := writeEvidence(filepath.Join(data, "evidence"))
	if err != nil {
		return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
	}
	db, err := store.OpenDatabase(ctx, dbPath)
	if err != nil {
		return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
	}
	defer db.Close()
	// The catalogue as the relay puts it at its start, so that the record
	// can be queried (bench review) without starting one.
	st := store.New(db)
	for _, s := range cfg.Sites {
		cams := make([]store.Camera, len(s.Cameras))
		for i, c := range s.Cameras {
			cams[i] = store.Camera{Site: s.ID, ID: c.ID, Zone: c.Zone, Name: c.Name}
		}
		if err := st.PutSite(ctx, store.Site{ID: s.ID, District: s.District, Name: s.Name, TimeZone: s.TimeZone, Kind: s.Type}, cams); err != nil {
			return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
		}
	}

	sum := Summary{Config: cfgPath, DataDir: data, Now: o.Now, Seed: o.Seed, Sites: len(sites), Cameras: len(sites) * len(cameras),
		Users: users, PublishToken: token, Snapshot: ev.snapshot.SHA256, Clip: ev.clip.SHA256}
	ds := map[string]bool{}
	for _, s := range sites {
		ds[s.district["zh-CN"]] = true
	}
	sum.Districts = len(ds)
	f, err := newFiller(ctx, db, o, rng, sites, lib, ev)
	if err != nil {
		return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
	}
	if err := f.fill(ctx, &sum); err != nil {
		return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
	}
	// The search's index, made by the review's own code from the rows as
	// the relay would at its start.
	rv, err := review.New(review.Config{DB: db, Templates: lib, Log: zerolog.Nop()})
	if err != nil {
		return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
	}
	indexed := time.Now()
	if err := rv.Index(ctx); err != nil {
		return Summary{}, fmt.Errorf("seeding %s: indexing: %w", dir, err)
	}
	sum.Indexing = time.Since(indexed)
	sum.Took = time.Since(begun)
	b, _ := json.MarshalIndent(sum, "", "  ") // plain fields: cannot fail
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), append(b, '\n'), 0o600); err != nil {
		return Summary{}, fmt.Errorf("seeding %s: %w", dir, err)
	}
	return sum, nil
}
