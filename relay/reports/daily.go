package reports

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/notify"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Daily sends each day's report, once the next day reaches At, to each
// target (relay/notify's WeCom, DingTalk and webhook messages). A day sent
// to a target is kept in report_sends, so a restart neither sends it again
// nor skips it; a failed send is tried again each Interval until it goes.
type Daily struct {
	DB      *sql.DB // the relay database
	Builder *Builder
	// At is when, in minutes after midnight in the schedule's time zone,
	// the report of the day before is sent.
	At      int
	Targets []notify.Target
	// Link is the address the message points to for the whole report.
	Link     string
	Client   *http.Client
	Interval time.Duration // how often it looks (default 30 s)
	Log      zerolog.Logger
}

// system is who makes the scheduled reports.
var system = auth.Principal{Name: "scheduled-report", Role: auth.RoleAdmin}

// Run sends the daily reports until ctx is cancelled.
func (d *Daily) Run(ctx context.Context) {
	interval := d.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := d.Round(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn().Err(err).Msg("daily report round failed; retrying")
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Due is the latest day whose report is due at now: the day before the
// last time the clock passed At.
func (d *Daily) Due(now time.Time) string {
	local := now.In(d.Builder.Schedule.Location())
	y, m, day := local.Date()
	if local.Before(time.Date(y, m, day, d.At/60, d.At%60, 0, 0, local.Location())) {
		day--
	}
	return time.Date(y, m, day-1, 12, 0, 0, 0, local.Location()).Format("2006-01-02")
}

// targetKey names a target in report_sends without keeping its URL (a
// robot's key is in it).
func targetKey(t notify.Target) string {
	h := sha256.Sum256([]byte(t.Kind + " " + t.URL))
	return "daily:" + hex.EncodeToString(h[:8])
}

// Round sends the due day's report to each target that has not had it.
func (d *Daily) Round(ctx context.Context) error {
	now := d.Builder.Now()
	due := d.Due(now)
	var rep *wire.Report
	var errs []error
	for _, t := range d.Targets {
		key := targetKey(t)
		var n int
		if err := d.DB.QueryRowContext(ctx, `SELECT count(*) FROM report_sends WHERE kind = ? AND day = ?`, key, due).Scan(&n); err != nil {
			return fmt.Errorf("reading the reports sent: %w", err)
		}
		if n > 0 {
			d.Log.Debug().Str("day", due).Str("kind", t.Kind).Msg("daily report already sent")
			continue
		}
		if rep == nil {
			r, err := d.Builder.Build(ctx, system, Request{Period: wire.PeriodDaily, Date: due, Lang: bilingual.ZH})
			if err != nil {
				return fmt.Errorf("making the daily report of %s: %w", due, err)
			}
			rep = &r
		}
		title, text := Markdown(*rep, d.Link)
		err := notify.Send(ctx, d.Client, t, notify.Message{Title: title, Markdown: text, Event: "report.daily", Data: rep}, now)
		log := d.Log.With().Str("day", due).Str("kind", t.Kind).Logger()
		if err != nil {
			log.Warn().Err(err).Msg("daily report not sent; will retry")
			errs = append(errs, err)
			continue
		}
		// What the robot has is recorded even when the relay is stopping
		// meanwhile: a send left unrecorded is sent again after the restart.
		if _, err := d.DB.ExecContext(context.WithoutCancel(ctx), `INSERT INTO report_sends (kind, day, sent_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			key, due, sqlitedb.FormatTime(now)); err != nil {
			return fmt.Errorf("recording the daily report of %s sent: %w", due, err)
		}
		log.Info().Msg("daily report sent")
	}
	return errors.Join(errs...)
}

// Markdown is the report's figures as the robots' markdown, in Chinese and
// English, as a duty room reads both, with the link to the whole report.
func Markdown(rep wire.Report, link string) (title, text string) {
	both := func(key string) string { return phrases.In(bilingual.ZH, key) + " " + phrases.In(bilingual.EN, key) }
	title = both("report_"+rep.Period) + " " + rep.Label
	f := rep.Figures
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n", title)
	for _, l := range []struct {
		key string
		n   int
	}{
		{"report_sites_supervised", f.SitesSupervised}, {"report_checks_done", f.Checks}, {"report_findings", f.Findings},
		{"report_ordered", f.OrderedToRectify}, {"report_rectified", f.Rectified}, {"report_verified", f.Verified},
		{"report_overdue", f.Overdue}, {"report_notices", f.NoticesIssued}, {"report_coverage_met", f.CoverageSitesMet},
	} {
		fmt.Fprintf(&b, "> %s: %d\n\n", both(l.key), l.n)
	}
	if link != "" {
		fmt.Fprintf(&b, "[%s](%s)", both("report_link"), link)
	}
	return title, b.String()
}
