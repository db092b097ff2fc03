-- Fills a store created with the gateway's schema with @ROWS@ messages that were sent long ago,
-- each with the three events a real one has (queued, handed to SIP, sent), so the benchmark can
-- measure what a full store costs. tests/bench/run.sh replaces @ROWS@. Ids are 26 characters
-- of the id alphabet that sort before any real (time-prefixed) id.
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @ROWS@)
INSERT INTO messages (seq, id, inbound, status, to_addr, from_addr, text, reference, encoding,
                      chars, units, segments, created_at, updated_at, expires_at,
                      next_attempt_at, lease_until, attempts, sip_status, sip_phrase, call_id,
                      error_code)
SELECT i, printf('%026d', i), 0, 2, '+15550100', '',
       'bench: the quick brown fox jumps over the lazy dog', '', 0, 50, 50, 1,
       1700000000000 + i * 50, 1700000000000 + i * 50 + 30, 1700000000000 + i * 50 + 86400000,
       0, 1700000000000 + i * 50 + 120000, 1, 200, 'OK', printf('prefill-%d@127.0.0.1', i), ''
FROM n;
INSERT INTO events (msg_seq, at, status, layer, detail)
SELECT m.seq, CASE k.s WHEN 2 THEN m.updated_at ELSE m.created_at END, k.s,
       CASE k.s WHEN 0 THEN 'http' WHEN 1 THEN 'store' ELSE 'sip' END,
       CASE k.s WHEN 0 THEN 'accepted and stored'
                WHEN 1 THEN 'attempt 1 handed to the SIP agent'
                ELSE '200 OK; accepted by the operator' END
FROM messages m, (SELECT 0 AS s UNION ALL SELECT 1 UNION ALL SELECT 2) k
ORDER BY m.seq, k.s;
COMMIT;
