package config

import (
	"fmt"
	"net/url"
)

// Reports configures the scheduled daily report: at DailyAt ("HH:MM", in
// the shifts' time zone) the report of the day before goes to each of
// Notify, with Link to the whole report.
type Reports struct {
	DailyAt string   `yaml:"daily_at"`
	Notify  []Notify `yaml:"notify"`
	Link    string   `yaml:"link"`
}

// DailyMinutes is DailyAt in minutes after midnight; ok is false when no
// daily report is scheduled.
func (r Reports) DailyMinutes() (min int, ok bool) {
	if r.DailyAt == "" {
		return 0, false
	}
	m, err := ClockMinutes(r.DailyAt)
	return m, err == nil
}

// validateReports checks the reports section.
func (c *Config) validateReports(at func(...string) int, add func(int, string)) {
	r := c.Reports
	if r.DailyAt != "" {
		if _, err := ClockMinutes(r.DailyAt); err != nil {
			add(at("reports", "daily_at"), "reports: daily_at: "+err.Error())
		}
	}
	switch {
	case r.DailyAt != "" && len(r.Notify) == 0:
		add(at("reports", "daily_at"), "reports: daily_at needs notify (the targets the daily report goes to)")
	case r.DailyAt == "" && len(r.Notify) > 0:
		add(at("reports", "notify"), "reports: notify needs daily_at (when the daily report goes, e.g. 08:30)")
	}
	for i, n := range r.Notify {
		if err := checkTarget(fmt.Sprintf("reports notify[%d]", i), n); err != nil {
			add(at("reports", "notify"), err.Error())
		}
	}
	if r.Link != "" {
		u, err := url.Parse(r.Link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add(at("reports", "link"), fmt.Sprintf("reports: link %q: want an absolute http:// or https:// URL", r.Link))
		}
	}
}
