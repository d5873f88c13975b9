-- The review list at 1,000,000 findings, third round (issue 13,
-- docs/PERFORMANCE.md "Review at 1M findings"): filters of three or four
-- conditions whose count read each finding's row for a condition no index
-- held beside the others (an officer's verified findings in two districts
-- 795 ms of CPU, a quarter's overdue hotel waste transfers 386, a month's
-- open critical unreviewed findings in a district 81). Each index below
-- holds what such a count tests, so it is read from the index alone.

-- An officer's findings by site and status: officer with a district or a
-- site, and a status (the officer's own index is by time).
CREATE INDEX IF NOT EXISTS findings_observer_site ON findings (observer, site_id, status, observed_at, id);

-- The findings not closed of one template, by time, with what overdue and
-- a site or site type test: a template with overdue read the template's
-- whole period for the ~10% not closed. The period leads after the
-- template so that SQLite, whose statistics take each template for ~1,000
-- findings, prefers it to findings_template_observed (template_id,
-- observed_at, id). The condition is written as relay/review's Filter
-- writes it.
CREATE INDEX IF NOT EXISTS findings_open_template ON findings (template_id, observed_at, deadline, site_id, status)
    WHERE status NOT IN ('verified', 'withdrawn');

-- A district's or site's findings of a status in a period, with severity
-- and the review mark, which relay/review writes +f.severity and
-- +f.reviewed beside other conditions (no seek by them; tested from here).
CREATE INDEX IF NOT EXISTS findings_site_status_observed ON findings (site_id, status, observed_at, severity, reviewed);
