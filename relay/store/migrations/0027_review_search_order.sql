-- The review's search at 1,000,000 findings (issue 13, docs/PERFORMANCE.md
-- "Review at 1M findings"): a common word's page gathered all its matches
-- (整改: 226,000) for a test of each finding walked, and a word with a
-- district intersected all its matches (消毒: 312,000) with the district's
-- findings, 77 and 200 ms of CPU.
--
-- review_fts is made again with two changes:
--   - order=DESC: its doclists are kept newest rowid first, so that
--     ORDER BY docid DESC, and a docid >= ? bound, read only the newest
--     matches instead of loading every one (relay/review: the newest
--     matches bound the page; findings are filed about in the order
--     observed, and the bound stays exact when they are not).
--   - sites: the finding's site as one word, 's' and its id's UTF-8 bytes
--     in hex (a word of any id, and none a search can type: searches ask
--     the grams column only), so that a search at some sites is one
--     match, intersected in the index itself and counted there.
-- Its documents are copied in rowid order, with their findings' sites;
-- FTS4 cuts the copied texts again, in C.

DROP TRIGGER review_docs_finding_deleted;
ALTER TABLE review_fts RENAME TO review_fts_0022;
CREATE VIRTUAL TABLE review_fts USING fts4 (grams, chars, sites, tokenize=unicode61, order=DESC);
INSERT INTO review_fts (docid, grams, chars, sites)
SELECT t.docid, t.grams, t.chars, 's' || lower(hex(f.site_id))
FROM review_fts_0022 t JOIN findings f ON f.rowid = t.docid
ORDER BY t.docid;
DROP TABLE review_fts_0022;

-- As 0022: a finding's document goes with it.
CREATE TRIGGER review_docs_finding_deleted AFTER DELETE ON findings
BEGIN
    DELETE FROM review_fts WHERE docid = (SELECT docid FROM review_docs WHERE finding_id = OLD.id);
    DELETE FROM review_docs WHERE finding_id = OLD.id;
END;

-- No writer moves a finding to another site (as 0026 says); were one to,
-- its document's site follows it.
CREATE TRIGGER review_fts_site_moved AFTER UPDATE OF site_id ON findings
BEGIN
    UPDATE review_fts SET sites = 's' || lower(hex(NEW.site_id))
    WHERE docid = (SELECT docid FROM review_docs WHERE finding_id = NEW.id);
END;
