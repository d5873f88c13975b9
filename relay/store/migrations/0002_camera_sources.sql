-- The RTSP streams the relay pulls for a camera (cameras without any are
-- published by WHIP). The URL carries the camera's credentials, which the
-- relay must present: the data directory is the relay's alone (0700).
CREATE TABLE camera_sources (
    site_id   TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    stream    TEXT NOT NULL CHECK (stream IN ('main', 'sub')),
    url       TEXT NOT NULL,
    -- '' lets the puller choose (UDP, falling back to TCP).
    transport TEXT NOT NULL DEFAULT '' CHECK (transport IN ('', 'tcp', 'udp')),
    PRIMARY KEY (site_id, camera_id, stream),
    FOREIGN KEY (site_id, camera_id) REFERENCES cameras (site_id, id) ON DELETE CASCADE
);
