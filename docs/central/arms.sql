-- Per arm of the trial: enrolled (rules.arm_assigned), messages sent, delivered and failed
-- (sms.sent, sms.delivered, sms.failed: one event per message, written by the box's store with
-- the parts' state changes), people who replied (rules.inbound_received), mean quiz score
-- (points of rules.quiz_completed), people who opted out (rules.opted_out).
-- Runs unchanged on SQLite (3.38+), DuckDB and PostgreSQL over
-- the table that docs/central.md loads:
--   events(device TEXT, seq BIGINT, time BIGINT, clock_trusted BOOLEAN, type TEXT,
--          subject TEXT, data JSON)          -- PostgreSQL: data JSONB
-- A person is a subject (the pseudonym); boxes that share the deployment key give a person
-- the same subject, so people who moved between clinics are counted once.
WITH arms AS (
    SELECT subject, MIN(data ->> 'arm') AS arm
    FROM events
    WHERE type = 'rules.arm_assigned' AND subject IS NOT NULL
    GROUP BY subject
)
SELECT
    a.arm,
    COUNT(DISTINCT a.subject) AS enrolled,
    COUNT(e.seq) FILTER (WHERE e.type = 'sms.sent') AS sent,
    COUNT(e.seq) FILTER (WHERE e.type = 'sms.delivered') AS delivered,
    COUNT(e.seq) FILTER (WHERE e.type = 'sms.failed') AS failed,
    COUNT(DISTINCT e.subject) FILTER (WHERE e.type = 'rules.inbound_received') AS replied,
    -- NUMERIC: PostgreSQL rounds only NUMERIC to digits
    ROUND(CAST(AVG(CAST(e.data ->> 'score' AS DOUBLE PRECISION))
               FILTER (WHERE e.type = 'rules.quiz_completed') AS NUMERIC), 3)
        AS quiz_score,
    COUNT(DISTINCT e.subject) FILTER (WHERE e.type = 'rules.opted_out') AS opted_out
FROM arms a
LEFT JOIN events e ON e.subject = a.subject
GROUP BY a.arm
ORDER BY a.arm;
