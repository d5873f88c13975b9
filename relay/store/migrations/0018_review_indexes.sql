-- The review list at 1,000,000 findings (issue 13, docs/PERFORMANCE.md
-- "Review at 1M findings"): what bench review's plans showed slow with the
-- indexes of 0014.
--
-- overdue (not closed, deadline passed) read every finding whose deadline
-- had passed, nearly all of them, to look up its status: the findings not
-- closed are few, and this index holds only them. The term is written as
-- relay/review's Filter writes it, so that SQLite sees it implies the
-- index's.
CREATE INDEX IF NOT EXISTS findings_open_deadline ON findings (deadline, id)
    WHERE status NOT IN ('verified', 'withdrawn');
-- A filter on one template or one status, listed latest first, sorted all
-- its rows (a tenth of the record) to give 50: in these the rows of one
-- value come in the list's order.
CREATE INDEX IF NOT EXISTS findings_template_observed ON findings (template_id, observed_at, id);
CREATE INDEX IF NOT EXISTS findings_status_observed ON findings (status, observed_at, id);
-- sort=severity and sort=site over the whole record sorted it all for a
-- page: the list's own order keys (relay/review's sorts, the same
-- expressions).
CREATE INDEX IF NOT EXISTS findings_severity_order ON findings (
    CASE severity WHEN 'critical' THEN '0' WHEN 'major' THEN '1' ELSE '2' END, observed_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS findings_site_order ON findings (site_id, observed_at DESC, id DESC);
