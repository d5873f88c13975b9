-- The review's search at 1,000,000 findings (issue 13, docs/PERFORMANCE.md
-- "Review at 1M findings"): review_fts's documents had docids of their own,
-- mapped through review_docs to the findings' text ids, so a common word's
-- ~226,000 matches were each looked up in review_docs and then by text id
-- in findings before a count or a page could use them (0.5–1.6 s of CPU).
-- A document's docid is now its finding's rowid: the filter is
-- f.rowid IN (the match), which the findings' indexes answer from their
-- entries alone (each holds the rowid), and a search alone is counted by
-- review_fts itself.
--
-- findings has no INTEGER PRIMARY KEY, so its rowid is SQLite's own, which
-- the documentation says VACUUM may renumber (a dump read back does). The
-- relay never VACUUMs; review_docs keeps each document's finding by its
-- text id, and relay/review checks the two agree before it first indexes
-- or searches in a process, indexing everything again if they do not
-- (review.Store.Index).

-- The documents there are, under their findings' rowids, in rowid order
-- (FTS4 appends a rising docid to its pending lists; a falling one flushes
-- them). FTS4 copies the texts and cuts them again, in C: no finding's
-- texts are read again.
ALTER TABLE review_fts RENAME TO review_fts_0014;
ALTER TABLE review_docs RENAME TO review_docs_0014;
CREATE VIRTUAL TABLE review_fts USING fts4 (grams, chars, tokenize=unicode61);
INSERT INTO review_fts (docid, grams, chars)
SELECT f.rowid, t.grams, t.chars
FROM review_docs_0014 d JOIN findings f ON f.id = d.finding_id JOIN review_fts_0014 t ON t.docid = d.docid
ORDER BY f.rowid;

-- docid: the finding's rowid when it was indexed.
CREATE TABLE review_docs (
    docid      INTEGER PRIMARY KEY,
    finding_id TEXT NOT NULL UNIQUE
);
INSERT INTO review_docs (docid, finding_id)
SELECT f.rowid, f.id FROM review_docs_0014 d JOIN findings f ON f.id = d.finding_id;
DROP TABLE review_fts_0014;
DROP TABLE review_docs_0014;

-- A finding's document goes with it, so that every document is of a
-- finding there is and a search alone may be counted by the index (the
-- relay keeps its findings; this is for whatever deletes one). Found by
-- its text id: review_docs is the record that survives a renumbering.
CREATE TRIGGER review_docs_finding_deleted AFTER DELETE ON findings
BEGIN
    DELETE FROM review_fts WHERE docid = (SELECT docid FROM review_docs WHERE finding_id = OLD.id);
    DELETE FROM review_docs WHERE finding_id = OLD.id;
END;
