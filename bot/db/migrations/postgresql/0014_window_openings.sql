-- 0014: the count of the ballot window's openings within a round was kept under the meta
-- key 'ballot_round', which read as if it were the annual round (design §12): renamed.
UPDATE meta SET key = 'window_openings' WHERE key = 'ballot_round';
