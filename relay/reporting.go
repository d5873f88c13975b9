package relay

import (
	"database/sql"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay/config"
	"github.com/qianliyan/qianliyan/relay/notify"
	"github.com/qianliyan/qianliyan/relay/reports"
	"github.com/qianliyan/qianliyan/relay/runs"
	"github.com/qianliyan/qianliyan/relay/store"
)

// reportInterval is how often the scheduled daily report looks whether
// its day is due (and retries a target that failed).
const reportInterval = 30 * time.Second

// dailyReport is the scheduled daily report of the configuration's
// reports section, nil when none is scheduled.
func dailyReport(cfg *config.Config, db *sql.DB, b *reports.Builder, client *http.Client, log zerolog.Logger) *reports.Daily {
	at, ok := cfg.Reports.DailyMinutes()
	if !ok {
		return nil
	}
	targets := make([]notify.Target, len(cfg.Reports.Notify))
	for i, n := range cfg.Reports.Notify {
		targets[i] = notify.Target{Kind: n.Kind, URL: n.URL, Secret: n.Secret}
	}
	return &reports.Daily{DB: db, Builder: b, At: at, Targets: targets, Link: cfg.Reports.Link,
		Client: client, Interval: reportInterval, Log: log}
}

// reportBuilder makes the supervisors' reports from the statistics, the
// checklist runs and the catalogue.
func reportBuilder(stats reports.Stats, db *sql.DB, st *store.Store, cfg *config.Config, now func() time.Time) (*reports.Builder, error) {
	sched, err := schedule(cfg)
	if err != nil {
		return nil, err
	}
	return &reports.Builder{Stats: stats, Checks: runs.New(db), Catalogue: st, Schedule: sched, Now: now}, nil
}
