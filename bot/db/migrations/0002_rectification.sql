-- 0002: roles and invites, the life of a case (整改落实), findings from outside the bot.

-- Single-use invite links: https://t.me/<bot>?start=<code>, bound to the first account.
CREATE TABLE invites (
    code        TEXT    PRIMARY KEY,
    role        TEXT    NOT NULL CHECK (role IN ('staff', 'supervisor', 'evaluator')),
    units       TEXT    NOT NULL DEFAULT '[]',  -- JSON list of unit ids; [] = every unit
    category    TEXT,                           -- an evaluator's category
    created_by  INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    used_by     INTEGER,
    used_at     TEXT
);

-- Who may do what beyond a resident. unit_id '' means every unit.
CREATE TABLE roles (
    user_id     INTEGER NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('staff', 'supervisor', 'evaluator')),
    unit_id     TEXT    NOT NULL DEFAULT '',
    category    TEXT,
    invite_code TEXT    REFERENCES invites (code),
    granted_at  TEXT    NOT NULL,
    PRIMARY KEY (user_id, role, unit_id)
);
CREATE INDEX roles_by_unit ON roles (role, unit_id);

-- The verification outcome, the deadline of the stage a case is in, the resident's rating.
ALTER TABLE cases ADD COLUMN outcome TEXT
    CHECK (outcome IS NULL OR outcome IN ('not_substantiated', 'general', 'punished'));
ALTER TABLE cases ADD COLUMN due_at TEXT;
ALTER TABLE cases ADD COLUMN rating TEXT
    CHECK (rating IS NULL OR rating IN ('satisfied', 'basic', 'unsatisfied'));
CREATE INDEX cases_due ON cases (due_at) WHERE due_at IS NOT NULL;

-- Each event names its move and may carry a plan and a deadline.
ALTER TABLE case_events ADD COLUMN move TEXT NOT NULL DEFAULT 'file';
ALTER TABLE case_events ADD COLUMN plan TEXT;
ALTER TABLE case_events ADD COLUMN due_at TEXT;

-- Substantiated problems reported from outside the bot (complaint centres, discipline
-- bodies). Every report is kept; scoring counts one reference once, at its highest severity.
CREATE TABLE findings (
    id           INTEGER PRIMARY KEY,
    unit_id      TEXT    NOT NULL,
    severity     TEXT    NOT NULL CHECK (severity IN ('general', 'punished')),
    ref          TEXT    NOT NULL,
    text         TEXT    NOT NULL DEFAULT '',
    recorded_by  INTEGER NOT NULL,
    recorded_at  TEXT    NOT NULL,
    origin_key   TEXT    NOT NULL UNIQUE
);
CREATE INDEX findings_by_unit ON findings (unit_id);
