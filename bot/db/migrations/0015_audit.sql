-- 0015: what organisers did, from chat or the console (design §11's audit page): who,
-- when, by which way, the action, what it was about (an office's id, a reference) and
-- its detail (a score, a state). Case moves stay in case_events; the page reads both.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    round       TEXT    NOT NULL DEFAULT '',
    at          TEXT    NOT NULL,
    user_id     INTEGER NOT NULL,
    via         TEXT    NOT NULL CHECK (via IN ('chat', 'console', 'cli')),
    action      TEXT    NOT NULL,
    subject     TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_time ON audit (at);

-- The form (or update) that made an invitation: a double submit makes one batch.
ALTER TABLE invites ADD COLUMN origin TEXT;
CREATE INDEX invites_by_origin ON invites (origin);

-- A finding recorded by mistake is withdrawn with a reason (the findings register): it
-- stays listed, and counts no more.
ALTER TABLE findings ADD COLUMN withdrawn_at TEXT;
ALTER TABLE findings ADD COLUMN withdrawn_by BIGINT;
ALTER TABLE findings ADD COLUMN withdrawn_reason TEXT;
