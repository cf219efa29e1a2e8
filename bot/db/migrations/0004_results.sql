-- 0004: what the results need: daily-work scores, handling proposals, publications,
-- subscribers, and binary payloads (charts) for the outbox.

CREATE TABLE daily_scores (
    unit_id  TEXT    PRIMARY KEY,
    score    TEXT    NOT NULL,         -- decimal as text: exact
    set_by   INTEGER NOT NULL,
    set_at   TEXT    NOT NULL
);

-- The organisers' handling proposals for units below the threshold (the plan's 处理意见).
CREATE TABLE proposals (
    id       INTEGER PRIMARY KEY,
    unit_id  TEXT    NOT NULL,
    text     TEXT    NOT NULL,
    made_by  INTEGER NOT NULL,
    made_at  TEXT    NOT NULL,
    origin   TEXT    NOT NULL UNIQUE
);

-- Each publication of the ranking, with the ballot log's chain head at that moment.
CREATE TABLE publications (
    id            INTEGER PRIMARY KEY,
    published_at  TEXT    NOT NULL,
    published_by  INTEGER NOT NULL,
    head          TEXT    NOT NULL,
    ranking       TEXT    NOT NULL,    -- JSON: what was published, as published
    origin        TEXT    NOT NULL UNIQUE
);

CREATE TABLE subscribers (
    user_id  INTEGER PRIMARY KEY,
    since    TEXT    NOT NULL
);

CREATE TABLE blobs (
    id          INTEGER PRIMARY KEY,
    data        BLOB    NOT NULL,
    created_at  TEXT    NOT NULL
);
