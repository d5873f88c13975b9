-- A finding flagged from a checklist's catalogue carries the catalogue's
-- words in each language (JSON, {"zh-CN": …, "en": …}), so that the site
-- page and the consoles show it in the reader's language (issue 10). Free
-- text and findings filed before this carry none ('') and show
-- deviation_text as typed.
ALTER TABLE findings ADD COLUMN deviation_title TEXT NOT NULL DEFAULT '';
