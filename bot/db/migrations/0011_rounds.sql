-- 0011: one database across the years (design §12). A database holds successive rounds
-- (one campaign file each); the last one opened is the current round. What belongs to a
-- round carries its id: its ballots, log, tallies, cards, evaluators, invitations,
-- findings, daily-work scores, proposals, publications, and the cases filed in it.
-- Staff and supervisors (roles with round ''), residents, subscribers and flows do not.
--
-- A database made before this holds one round: the campaign it was claimed by. Its file's
-- text, name and year are filled in by the next `evalbot run` of that file.

CREATE TABLE rounds (
    seq        INTEGER PRIMARY KEY,          -- 1, 2, 3, … in the order opened
    id         TEXT    NOT NULL UNIQUE,      -- the campaign file's id
    year       INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    campaign   TEXT    NOT NULL,             -- the campaign file as last run (TOML)
    window     TEXT    NOT NULL DEFAULT 'auto'
        CHECK (window IN ('auto', 'open', 'closed')),
    opened_at  TEXT    NOT NULL,
    closed_at  TEXT                          -- when the next round was opened
);

INSERT INTO rounds (seq, id, year, name, campaign, window, opened_at)
SELECT 1, value, 0, '', '',
       COALESCE((SELECT value FROM meta WHERE key = 'ballot_window'), 'auto'),
       strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', 'now')
FROM meta WHERE key = 'campaign_id';
DELETE FROM meta WHERE key IN ('ballot_window', 'campaign_id');

-- the current round ('' in a database no campaign has claimed yet)
CREATE VIEW current_round AS
SELECT COALESCE((SELECT id FROM rounds ORDER BY seq DESC LIMIT 1), '') AS id;

-- ballots, tallies and cards: the round joins the key
CREATE TABLE ballots_r (
    round        TEXT    NOT NULL,
    voter        TEXT    NOT NULL,
    unit_id      TEXT    NOT NULL,
    item_id      TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    answer       TEXT    NOT NULL
        CHECK (answer IN ('satisfied', 'basic', 'unsatisfied', 'unknown')),
    answered_at  TEXT    NOT NULL,
    PRIMARY KEY (round, voter, unit_id, item_id)  -- one vote per evaluator, unit and item
);
INSERT INTO ballots_r SELECT (SELECT id FROM current_round), voter, unit_id, item_id, category,
       answer, answered_at FROM ballots;
DROP TABLE ballots;
ALTER TABLE ballots_r RENAME TO ballots;
CREATE INDEX ballots_tally ON ballots (round, unit_id, item_id, category, answer);

CREATE TABLE tallies_r (
    round     TEXT    NOT NULL,
    unit_id   TEXT    NOT NULL,
    item_id   TEXT    NOT NULL,
    category  TEXT    NOT NULL,
    answer    TEXT    NOT NULL,
    count     INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (round, unit_id, item_id, category, answer)
) WITHOUT ROWID;
INSERT INTO tallies_r SELECT (SELECT id FROM current_round), unit_id, item_id, category, answer,
       count FROM tallies;
DROP TABLE tallies;
ALTER TABLE tallies_r RENAME TO tallies;

CREATE TABLE ballot_cards_r (
    round       TEXT    NOT NULL,
    user_id     INTEGER NOT NULL,
    message_id  INTEGER,
    view        TEXT    NOT NULL DEFAULT 'u:0',
    final       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (round, user_id)
);
INSERT INTO ballot_cards_r SELECT (SELECT id FROM current_round), user_id, message_id, view,
       final FROM ballot_cards;
DROP TABLE ballot_cards;
ALTER TABLE ballot_cards_r RENAME TO ballot_cards;

ALTER TABLE ballot_log ADD COLUMN round TEXT NOT NULL DEFAULT '';
UPDATE ballot_log SET round = (SELECT id FROM current_round);
CREATE INDEX ballot_log_by_round ON ballot_log (round, seq);

-- the ballots of a round that is over cannot be changed, whatever the code does
CREATE TRIGGER ballots_closed_insert BEFORE INSERT ON ballots
WHEN NEW.round != (SELECT id FROM current_round)
BEGIN SELECT RAISE(ABORT, 'the ballots of an earlier round cannot be changed'); END;
CREATE TRIGGER ballots_closed_update BEFORE UPDATE ON ballots
WHEN OLD.round != (SELECT id FROM current_round)
BEGIN SELECT RAISE(ABORT, 'the ballots of an earlier round cannot be changed'); END;
CREATE TRIGGER ballots_closed_delete BEFORE DELETE ON ballots
WHEN OLD.round != (SELECT id FROM current_round)
BEGIN SELECT RAISE(ABORT, 'the ballots of an earlier round cannot be changed'); END;
CREATE TRIGGER ballot_log_closed_insert BEFORE INSERT ON ballot_log
WHEN NEW.round != (SELECT id FROM current_round)
BEGIN SELECT RAISE(ABORT, 'the ballots of an earlier round cannot be changed'); END;
CREATE TRIGGER tallies_closed_insert BEFORE INSERT ON tallies
WHEN NEW.round != (SELECT id FROM current_round)
BEGIN SELECT RAISE(ABORT, 'the ballots of an earlier round cannot be changed'); END;
CREATE TRIGGER tallies_closed_update BEFORE UPDATE ON tallies
WHEN OLD.round != (SELECT id FROM current_round)
BEGIN SELECT RAISE(ABORT, 'the ballots of an earlier round cannot be changed'); END;

-- evaluators belong to a round (round ''), staff and supervisors do not
CREATE TABLE roles_r (
    user_id     INTEGER NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('staff', 'supervisor', 'evaluator')),
    unit_id     TEXT    NOT NULL DEFAULT '',
    round       TEXT    NOT NULL DEFAULT '',  -- an evaluator's round; '' for staff, supervisors
    category    TEXT,
    invite_code TEXT    REFERENCES invites (code),
    granted_at  TEXT    NOT NULL,
    PRIMARY KEY (user_id, role, unit_id, round)
);
INSERT INTO roles_r SELECT user_id, role, unit_id,
       CASE WHEN role = 'evaluator' THEN (SELECT id FROM current_round) ELSE '' END,
       category, invite_code, granted_at FROM roles
WHERE role != 'evaluator' OR (SELECT id FROM current_round) != '';
DROP TABLE roles;
ALTER TABLE roles_r RENAME TO roles;
CREATE INDEX roles_by_unit ON roles (role, unit_id);
CREATE INDEX roles_evaluators ON roles (round, role, user_id);

ALTER TABLE invites ADD COLUMN round TEXT NOT NULL DEFAULT '';
UPDATE invites SET round = (SELECT id FROM current_round);

CREATE TABLE daily_scores_r (
    round    TEXT    NOT NULL,
    unit_id  TEXT    NOT NULL,
    score    TEXT    NOT NULL,
    set_by   INTEGER NOT NULL,
    set_at   TEXT    NOT NULL,
    PRIMARY KEY (round, unit_id)
);
INSERT INTO daily_scores_r SELECT (SELECT id FROM current_round), unit_id, score, set_by, set_at
FROM daily_scores;
DROP TABLE daily_scores;
ALTER TABLE daily_scores_r RENAME TO daily_scores;

ALTER TABLE findings ADD COLUMN round TEXT NOT NULL DEFAULT '';
UPDATE findings SET round = (SELECT id FROM current_round);
CREATE INDEX findings_by_round ON findings (round, unit_id);

ALTER TABLE proposals ADD COLUMN round TEXT NOT NULL DEFAULT '';
UPDATE proposals SET round = (SELECT id FROM current_round);

ALTER TABLE publications ADD COLUMN round TEXT NOT NULL DEFAULT '';
UPDATE publications SET round = (SELECT id FROM current_round);
CREATE INDEX publications_by_round ON publications (round, id);

-- a case belongs to the round it was filed in; its deductions count there
ALTER TABLE cases ADD COLUMN round TEXT NOT NULL DEFAULT '';
UPDATE cases SET round = (SELECT id FROM current_round);
CREATE INDEX cases_by_round ON cases (round, unit_id);
