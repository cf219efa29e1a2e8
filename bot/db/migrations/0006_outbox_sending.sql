-- 0006: when a notification's API call began. Set (and committed) before the call, cleared
-- when Telegram refuses it; a row with sending_at and no sent_at after a crash may or may
-- not have reached Telegram, and is not sent again (no notification twice).

ALTER TABLE outbox ADD COLUMN sending_at TEXT;
