-- The on-site follow-up list (四不两直 回头看, issue 13), owned by
-- relay/stats: the sites a supervisor picked from the ranking of sites by
-- problems for an unannounced visit, with why and the review filter that
-- showed them, so whoever makes the visit sees what was seen. A site is on
-- it once (putting it again replaces the reason); taking it off deletes it.
-- No foreign key to sites: the list outlives a site taken out of the
-- configuration, as findings do.
CREATE TABLE followups (
    site_id  TEXT PRIMARY KEY,
    reason   TEXT NOT NULL DEFAULT '',
    filter   TEXT NOT NULL DEFAULT '',   -- the review filter's query string
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL
);
