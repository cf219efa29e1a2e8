-- 0010: what the console's overview reads, measured with 100,000 cases (bench_console):
-- the figures per office from an index holding every column they need (no pass over the
-- texts), and the substantiated cases behind C (for the ranking) without a full scan.

CREATE INDEX cases_figures ON cases (
    unit_id, state, due_at, responded_at, responded_late, finished_at, finished_late,
    closed_at, filed_at, rating, reopened
);
CREATE INDEX cases_substantiated ON cases (unit_id, outcome)
    WHERE outcome IN ('general', 'punished');
ANALYZE;
