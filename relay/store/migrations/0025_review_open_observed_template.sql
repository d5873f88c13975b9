-- The review list at 1,000,000 findings (issue 13, docs/PERFORMANCE.md
-- "Review at 1M findings"): an overdue page latest first walks
-- findings_open_observed (0019), the ~10% of findings not closed; with a
-- template besides (a quarter's overdue waste transfers at hotels) each
-- entry walked past the others' tests read its finding's row for the
-- template, ~31 ms of CPU for 17,500 entries. With the template in the
-- index the walk reads no row (~10 ms). Its condition is written as
-- relay/review's Filter writes it.
DROP INDEX IF EXISTS findings_open_observed;
CREATE INDEX findings_open_observed ON findings (observed_at, id, deadline, site_id, status, template_id)
    WHERE status NOT IN ('verified', 'withdrawn');
