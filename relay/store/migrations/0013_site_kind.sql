-- The kind of each site (config.SiteTypes): supervisors filter and count
-- findings by it (issue 13). Sites saved before this are other until the
-- configuration is loaded again.
ALTER TABLE sites ADD COLUMN kind TEXT NOT NULL DEFAULT 'other';
