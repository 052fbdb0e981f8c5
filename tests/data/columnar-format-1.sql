-- Made with strata at format 1 (commit 7f59cd4 and earlier):
--   sqlite3 columnar-format-1.db ".load <old build>/libstrata" ".read columnar-format-1.sql"
-- tests/unit/test_columnar_format_upgrade.cpp opens it with today's strata.
CREATE VIRTUAL TABLE events USING columnar(
  id INTEGER PRIMARY KEY, k TEXT UNIQUE COLLATE NOCASE, kind, day TEXT, amount REAL,
  chunk_rows=50, bloom='kind', index='kind', partition_by='day');
CREATE TABLE expected(id INTEGER PRIMARY KEY, k TEXT UNIQUE COLLATE NOCASE, kind, day TEXT, amount REAL);
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 400)
INSERT INTO expected SELECT n, 'key' || n, CASE n % 4 WHEN 0 THEN 'a' WHEN 1 THEN 2 WHEN 2 THEN 2.5 ELSE NULL END,
  '2026-11-0' || (n % 3 + 1), n * 0.25 FROM c;
INSERT INTO events SELECT * FROM expected;
DELETE FROM events WHERE id % 7 = 0;
DELETE FROM expected WHERE id % 7 = 0;
UPDATE events SET amount = -amount WHERE id % 11 = 0;
UPDATE expected SET amount = -amount WHERE id % 11 = 0;
