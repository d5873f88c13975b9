-- A finding flagged from a checklist's catalogue keeps the catalogue's
-- words in each language (JSON, {"zh-CN": …, "en": …}), so that the view
-- and the relay show it in the reader's language (issue 10). Free text and
-- findings flagged before this keep none ('') and show deviation_text as
-- typed.
ALTER TABLE findings ADD COLUMN deviation_title TEXT NOT NULL DEFAULT '';
