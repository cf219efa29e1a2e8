-- 0001: the foundation. Times are UTC ISO-8601 text ("2026-11-26T04:30:00.000000+00:00"),
-- which sorts in time order.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every update is stored here before Telegram is told it was received.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    lane        INTEGER NOT NULL,          -- the user's id (the chat's for group messages)
    body        TEXT    NOT NULL,          -- the update as JSON
    received_at TEXT    NOT NULL,
    done_at     TEXT,                      -- NULL until processed
    attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX inbox_pending ON inbox (update_id) WHERE done_at IS NULL;

-- The last update id handed out by getUpdates, so a restart asks for what follows it.
INSERT INTO meta (key, value) VALUES ('intake_offset', '0');

CREATE TABLE users (
    user_id     INTEGER PRIMARY KEY,
    first_name  TEXT    NOT NULL DEFAULT '',
    last_name   TEXT    NOT NULL DEFAULT '',
    username    TEXT    NOT NULL DEFAULT '',
    lang        TEXT    NOT NULL DEFAULT 'zh',
    source      TEXT,                      -- the poster or channel that last brought them
    blocked_at  TEXT,                      -- set when Telegram says they blocked the bot
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

-- Which posters and channels brought whom (first visit per source), for channel counts.
CREATE TABLE user_sources (
    user_id     INTEGER NOT NULL REFERENCES users (user_id),
    source      TEXT    NOT NULL,
    first_at    TEXT    NOT NULL,
    PRIMARY KEY (user_id, source)
);

-- A conversation in progress (one row per user). Kept in the database, not in memory, so
-- that a restart resumes it and a replayed update is recognised by its id; the row stays
-- (flow '') when the flow ends, still recording the last update applied for the user.
CREATE TABLE drafts (
    user_id         INTEGER PRIMARY KEY,
    flow            TEXT    NOT NULL,      -- '' when nothing is in progress
    step            TEXT    NOT NULL,
    data            TEXT    NOT NULL,      -- JSON
    prompt_chat_id  INTEGER,
    prompt_msg_id   INTEGER,               -- the message whose buttons belong to this step
    last_update_id  INTEGER NOT NULL,      -- the last update applied to this draft
    started_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE INDEX drafts_by_age ON drafts (updated_at) WHERE flow != '';

CREATE TABLE cases (
    id            INTEGER PRIMARY KEY,
    unit_id       TEXT    NOT NULL,
    item_id       TEXT,                    -- NULL: "other"
    text          TEXT    NOT NULL,
    channel       TEXT    NOT NULL,        -- telegram | visit | forum | mailbox | letter
    source        TEXT,                    -- the poster or channel code, if any
    author_id     INTEGER,                 -- the resident's Telegram id
    anonymous     INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
    author_name   TEXT,                    -- kept even when anonymous: staff never see it
    lang          TEXT    NOT NULL DEFAULT 'zh',
    state         TEXT    NOT NULL,
    filed_at      TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    origin_key    TEXT    NOT NULL UNIQUE  -- what filed it ("update:<id>"): files once
);
CREATE INDEX cases_by_author ON cases (author_id, id);
CREATE INDEX cases_by_unit ON cases (unit_id, state);

CREATE TABLE case_attachments (
    case_id        INTEGER NOT NULL REFERENCES cases (id),
    position       INTEGER NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('photo', 'document')),
    file_id        TEXT    NOT NULL,
    file_unique_id TEXT    NOT NULL,
    file_name      TEXT,
    PRIMARY KEY (case_id, position)
);

-- Every move of a case: who, when, from, to, why.
CREATE TABLE case_events (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    at          TEXT    NOT NULL,
    actor_id    INTEGER,
    actor_role  TEXT    NOT NULL,
    from_state  TEXT,
    to_state    TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX case_events_by_case ON case_events (case_id, id);

-- Notifications, written in the same transaction as the change that causes them and sent
-- by the outbox within Telegram's limits.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    method      TEXT    NOT NULL,          -- a Bot API method, e.g. sendMessage
    payload     TEXT    NOT NULL,          -- its parameters as JSON, chat_id included
    dedupe_key  TEXT    UNIQUE,            -- the same notification is queued once
    created_at  TEXT    NOT NULL,
    not_before  TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    sent_at     TEXT,
    failed_at   TEXT,
    error       TEXT
);
CREATE INDEX outbox_due ON outbox (not_before, id) WHERE sent_at IS NULL AND failed_at IS NULL;
