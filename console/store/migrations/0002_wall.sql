-- The console's own settings (issue 4): the relay last signed in to, so the
-- sign-in form starts from it.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Video-wall layouts and tours, per relay user name (issue 4).
CREATE TABLE layouts (
    user_name  TEXT NOT NULL,
    name       TEXT NOT NULL,
    grid       INTEGER NOT NULL CHECK (grid IN (1, 4, 9, 16, 25)),
    tiles      TEXT NOT NULL,   -- JSON list of "site/camera" or null, at most grid long
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_name, name)
);

CREATE TABLE tours (
    user_name  TEXT NOT NULL,
    name       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_name, name)
);

-- A step shows a camera or one of the user's layouts; a layout a tour shows
-- cannot be deleted from under it.
CREATE TABLE tour_steps (
    user_name TEXT NOT NULL,
    tour      TEXT NOT NULL,
    position  INTEGER NOT NULL,
    camera    TEXT,
    layout    TEXT,
    dwell_s   INTEGER NOT NULL CHECK (dwell_s BETWEEN 3 AND 3600),
    PRIMARY KEY (user_name, tour, position),
    CHECK ((camera IS NULL) <> (layout IS NULL)),
    FOREIGN KEY (user_name, tour) REFERENCES tours (user_name, name) ON DELETE CASCADE,
    FOREIGN KEY (user_name, layout) REFERENCES layouts (user_name, name) ON DELETE RESTRICT
);
CREATE INDEX tour_steps_layout ON tour_steps (user_name, layout) WHERE layout IS NOT NULL;

-- Built-in tours a user deleted: they stay away until one of that name is
-- saved again.
CREATE TABLE dismissed_tours (
    user_name    TEXT NOT NULL,
    name         TEXT NOT NULL,
    dismissed_at TEXT NOT NULL,
    PRIMARY KEY (user_name, name)
);
