-- 0007: "was this update applied?" moves from the drafts to the users, so that ending a
-- flow and recording an update as applied are two separate things. A flow's row now exists
-- only while the flow is in progress. Moves on cases are keyed by the update that made
-- them, as cases and ballots already are: doing one again after a crash changes nothing.

ALTER TABLE users ADD COLUMN last_update_id INTEGER NOT NULL DEFAULT 0;

INSERT INTO users (user_id, created_at, updated_at)
SELECT user_id, started_at, updated_at FROM drafts
WHERE user_id NOT IN (SELECT user_id FROM users);

UPDATE users SET last_update_id = COALESCE(
    (SELECT d.last_update_id FROM drafts d WHERE d.user_id = users.user_id), 0);

DELETE FROM drafts WHERE flow = '';
ALTER TABLE drafts DROP COLUMN last_update_id;

ALTER TABLE case_events ADD COLUMN origin TEXT;
CREATE UNIQUE INDEX case_events_origin ON case_events (origin) WHERE origin IS NOT NULL;
