-- A review list item names the checklist run a finding came from
-- (relay/review's items: run_findings by finding_id). The table's key
-- leads with the run, so each page of 50 read all of run_findings: at
-- 1M findings (276,000 rows) ~50 ms of CPU a page, the most of a page's
-- cost once the filters were fast (docs/PERFORMANCE.md, "Review at 1M
-- findings"). 0020 is another change's.
CREATE INDEX IF NOT EXISTS run_findings_finding ON run_findings (finding_id, run_id);
