-- strata demo: run by the README's first command (scripts/demo.sh) through the sqlite3 shell,
-- from the repository root, on a fresh database build/demo/demo.db.
.bail on
.headers on
.mode box
.load ./build/libstrata

SELECT 'strata ' || strata_version() || ' loaded into SQLite ' || sqlite_version() AS "strata";

-- 1. A columnar table: same SQL as an ordinary table, stored column by column.
CREATE VIRTUAL TABLE events USING columnar(
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  user_id INTEGER,
  kind TEXT DEFAULT 'view',
  amount REAL,
  partition_by='day(ts)'
);
CREATE TABLE events_plain(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, user_id INTEGER,
                          kind TEXT DEFAULT 'view', amount REAL);

-- 200,000 events over 3 days, in one transaction: one chunk write per column.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
INSERT INTO events(ts, user_id, kind, amount)
SELECT 1700000000 + i * 1.2, i % 1000, CASE i % 4 WHEN 0 THEN 'click' WHEN 1 THEN 'buy' ELSE 'view' END,
       round((i % 97) * 1.25, 2)
  FROM n;
INSERT INTO events_plain SELECT * FROM events;

SELECT kind, count(*) AS events, round(sum(amount), 2) AS amount
  FROM events GROUP BY kind ORDER BY kind;

-- Same answers as the ordinary table.
SELECT (SELECT sum(amount) FROM events) = (SELECT sum(amount) FROM events_plain) AS "same sum",
       (SELECT count(*) FROM events WHERE user_id = 7) = (SELECT count(*) FROM events_plain WHERE user_id = 7) AS "same count";

-- Updates, deletes and constraints behave as in SQLite.
UPDATE events SET kind = 'refund', amount = -amount WHERE id = 10;
DELETE FROM events WHERE user_id = 999;
INSERT INTO events(ts) VALUES (1700300000);
SELECT id, ts, kind, amount FROM events WHERE id IN (10, (SELECT max(id) FROM events));

-- Chunks: one per partition (day), each column one compressed blob.
SELECT partition, rows, deleted_rows, raw_bytes, stored_bytes FROM columnar_chunks WHERE tbl = 'events';
SELECT columnar_compact('events') AS "chunks rewritten", columnar_check('events') AS "check";

-- Skip indexes: a Parquet bloom filter over any column, usable from SQL.
SELECT bloom_contains(f, 7) AS "user 7?", bloom_contains(f, 123456) AS "user 123456?",
       json_extract(bloom_info(f), '$.bytes') AS "filter bytes"
  FROM (SELECT bloom_build(user_id) AS f FROM events);

-- Space: the shadow tables against the ordinary table.
SELECT sum(CASE WHEN name IN ('events_meta', 'events_chunks', 'events_chunks_rowids', 'events_columns')
                THEN pgsize END) AS "columnar bytes",
       sum(CASE WHEN name = 'events_plain' THEN pgsize END) AS "ordinary bytes"
  FROM dbstat;

-- Vector search: an HNSW index that commits and rolls back with the transaction.
CREATE VIRTUAL TABLE docs_vec USING hnsw(embedding float[4], metric=cosine);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO docs_vec(rowid, embedding)
  SELECT i, json_array(sin(i), cos(i), sin(i / 7.0), cos(i / 11.0)) FROM n;
SELECT rowid, round(distance, 4) AS distance
  FROM docs_vec WHERE embedding MATCH '[0.84, 0.54, 0.14, 0.99]' AND k = 3;
SELECT rowid, round(distance, 4) AS "distance among even rowids"
  FROM docs_vec WHERE embedding MATCH '[0.84, 0.54, 0.14, 0.99]' AND k = 3
   AND rowid IN (SELECT value FROM generate_series(2, 1000, 2));
SELECT hnsw_check('docs_vec') AS "hnsw_check";

-- A graph: things with JSON data, typed relationships, traversal in C++.
CREATE VIRTUAL TABLE kb USING things;
CREATE VIRTUAL TABLE kb_rel USING relationships(things=kb);
INSERT INTO kb(id, type, data) VALUES
  ('ada', 'User', '{"email":"ada@x.io"}'), ('bob', 'User', '{"email":"bob@x.io"}'),
  ('cy', 'User', '{"email":"cy@x.io"}'), ('db', 'Service', '{"owner":"ada"}'),
  ('api', 'Service', '{"owner":"bob"}');
INSERT INTO kb_rel(from_id, to_id, type) VALUES
  ('ada', 'bob', 'follows'), ('bob', 'cy', 'follows'), ('cy', 'ada', 'follows'),
  ('api', 'db', 'depends_on'), ('db', 'api', 'depends_on'), ('ada', 'db', 'owns');
SELECT node, depth, path FROM graph_traverse('kb_rel', 'ada', 2, 'follows', 'out');
SELECT step, node FROM graph_shortest_path('kb_rel', 'cy', 'api', NULL, 'both');
SELECT cycle FROM graph_cycles('kb_rel', 'depends_on');
SELECT things_index('kb', '$.email') IS NOT NULL AS "indexed $.email";
SELECT id, type FROM kb WHERE json_path = '$.email' AND json_value = 'cy@x.io';
DELETE FROM kb WHERE id = 'bob';   -- its relationships go with it
SELECT count(*) AS "relationships left", things_check('kb') AS "things_check" FROM kb_rel;

-- Parquet out and back in: one file per kind, in hive-style kind=… directories of the object
-- store (a local directory here; s3://bucket/prefix/ works the same), readable by DuckDB, Spark
-- and Trino, and by strata's read-only parquet table.
SELECT kind, parquet_export('file:build/demo/objects/lake/kind=' || kind || '/events.parquet',
                            'SELECT id, ts, user_id, amount FROM events WHERE kind = ' || quote(kind)) AS "rows written"
  FROM (SELECT DISTINCT kind FROM events ORDER BY kind);
CREATE VIRTUAL TABLE lake USING parquet('file:build/demo/objects/lake/');
SELECT kind, count(*) AS events, round(sum(amount), 2) AS amount FROM lake GROUP BY kind ORDER BY kind;
SELECT count(*) AS "user 5 buys", sum(amount) AS amount FROM lake WHERE kind = 'buy' AND user_id = 5;
-- What that scan skipped: other kinds' files, and row groups by statistics and bloom filters.
SELECT json_extract(s, '$.files_pruned') || ' of ' || json_extract(s, '$.files') AS "files skipped",
       (json_extract(s, '$.row_groups_pruned_by_statistics') + json_extract(s, '$.row_groups_pruned_by_bloom_filter'))
         || ' of ' || json_extract(s, '$.row_groups') AS "row groups skipped",
       json_extract(s, '$.bytes_read') AS "bytes read"
  FROM (SELECT parquet_scan_stats('lake') AS s);

-- Tiering: cold partitions move to the object store as Parquet (one file per partition, one row
-- group per chunk) and stay queryable; the database keeps only their index (docs/tiering.md).
CREATE VIRTUAL TABLE clicks USING columnar(
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, user_id INTEGER, page TEXT, ms REAL,
  partition_by='day(ts)', tier='file:objects/tier', hot_partitions=1, bloom='page');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
INSERT INTO clicks(ts, user_id, page, ms)
SELECT 1767225600 + i * 2, i % 5000, '/page/' || (i % 300), (i % 1000) / 10.0 FROM n;
SELECT count(*) AS clicks, round(sum(ms), 1) AS ms, count(DISTINCT page) AS pages FROM clicks;
SELECT sum(pgsize) AS "database bytes before the flush" FROM dbstat WHERE name LIKE 'clicks%';
SELECT tier_flush('clicks') AS "partitions moved to the tier";
-- The same query, now reading the cold days from their Parquet files.
SELECT count(*) AS clicks, round(sum(ms), 1) AS ms, count(DISTINCT page) AS pages FROM clicks;
-- Pruned by the hot metadata alone: no request for cold data.
SELECT count(*) AS "clicks of /page/7 on the newest day" FROM clicks WHERE page = '/page/7' AND ts >= 1767225600 + 6 * 86400;
SELECT partition, tier, rows, hot_bytes, cold_bytes, requests, bytes_fetched, cache_hits
  FROM tier_partitions WHERE tbl = 'clicks';
VACUUM;
SELECT sum(pgsize) AS "database bytes after the flush" FROM dbstat WHERE name LIKE 'clicks%';
-- The lake, as DuckDB, Spark or Trino list it: hive-style ts_day=… directories.
SELECT substr(name, length('build/demo/objects/tier/') + 1) AS "object", length(data) AS bytes
  FROM fsdir('build/demo/objects/tier') WHERE name LIKE '%.parquet' ORDER BY name;
SELECT tier_restore('clicks', '2026-01-02') AS "restored", columnar_check('clicks') AS "check";
SELECT partition, tier, rows FROM tier_partitions WHERE tbl = 'clicks';

-- Retention: partitions wholly older than now minus retention= are dropped, hot or cold.
-- tier_flush applies the whole policy: expire, then move all but the newest hot_partitions.
CREATE VIRTUAL TABLE metrics USING columnar(
  ts INTEGER NOT NULL, host TEXT, value REAL,
  partition_by='day(ts)', tier='file:objects/tier', hot_partitions=7, retention='30 days');
WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < 59)
INSERT INTO metrics SELECT unixepoch() - n * 86400, 'host' || h, n * 10 + h
  FROM d, (SELECT 1 AS h UNION ALL SELECT 2 UNION ALL SELECT 3);
SELECT count(*) AS "days of metrics", min(date(ts, 'unixepoch')) AS oldest FROM (SELECT DISTINCT ts FROM metrics);
SELECT tier_flush('metrics') AS "partitions moved (after expiring)";
SELECT tier, count(*) AS partitions, sum(rows) AS rows FROM tier_partitions WHERE tbl = 'metrics' GROUP BY tier;
SELECT count(*) AS "days kept", min(date(ts, 'unixepoch')) AS oldest FROM (SELECT DISTINCT ts FROM metrics);
SELECT tier_expire('metrics', date('now')) AS "today's partition dropped by name";

-- Things tiering: things older than hot_months move to the tier by type and month; ids, types,
-- relationships and indexed JSON paths stay hot, so a lookup of a cold thing costs one ranged GET.
CREATE VIRTUAL TABLE notes USING things(tier='file:objects/tier', hot_months=3);
SELECT things_index('notes', '$.author') IS NOT NULL AS "indexed $.author";
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 599)
INSERT INTO notes(id, type, data, created_at)
  SELECT 'note' || i, CASE WHEN i % 3 = 0 THEN 'Memo' ELSE 'Note' END,
         json_object('author', 'user' || (i % 20), 'words', i * 7),
         (unixepoch() - (i % 12) * 30 * 86400) * 1000 FROM n;
SELECT tier_flush('notes') AS "partitions moved";
SELECT tier, count(*) AS partitions, sum(rows) AS things FROM tier_partitions WHERE tbl = 'notes' GROUP BY tier;
SELECT id, data FROM notes WHERE id = 'note599';   -- cold: read from its object
SELECT count(*) AS "notes by user7" FROM notes WHERE json_path = '$.author' AND json_value = 'user7';
SELECT sum(requests) AS requests, sum(cache_hits) AS "cache hits" FROM tier_partitions WHERE tbl = 'notes';
-- What DuckDB reads with read_parquet('…/notes/**/*.parquet', hive_partitioning=true):
SELECT substr(name, length('build/demo/objects/tier/') + 1) AS "object"
  FROM fsdir('build/demo/objects/tier/notes') WHERE name LIKE '%.parquet' ORDER BY name LIMIT 4;

-- Time buckets (docs/timeseries.md): the clicks per 6 hours of the newest day, by bucket start.
SELECT datetime(time_bucket('6 hours', ts), 'unixepoch') AS bucket, count(*) AS clicks
  FROM clicks WHERE ts >= 1767225600 + 6 * 86400 GROUP BY 1 ORDER BY 1;

-- Rollups (docs/timeseries.md): daily aggregates kept in step with every write to clicks, in the
-- writer's transaction; exact after deletes, and they outlive the raw rows (tiered or expired).
CREATE VIRTUAL TABLE clicks_daily USING rollup(source='clicks', bucket='day(ts)',
  measures='count(*), avg(ms), max(ms), count(DISTINCT user_id)');
SELECT bucket, count, round(avg_ms, 2) AS avg_ms, max_ms, count_distinct_user_id AS users
  FROM clicks_daily ORDER BY bucket LIMIT 3;
DELETE FROM clicks WHERE ts < 1767225600 + 3600 AND ms > 50;
SELECT tier_expire('clicks', '2026-01-01') AS "first day expired";
SELECT bucket, count, max_ms FROM clicks_daily WHERE bucket <= '2026-01-02' ORDER BY bucket;

-- The roadmap, from docs/: what works today and what comes next.
WITH modules(area, sql_surface, status) AS (VALUES
  ('column store', 'CREATE VIRTUAL TABLE … USING columnar(…)', 'works'),
  ('skip indexes', 'bloom_build / bloom_contains / zone maps', 'works'),
  ('vector search', 'CREATE VIRTUAL TABLE … USING hnsw(…)', 'works'),
  ('graph', 'things / relationships / graph_traverse', 'works'),
  ('parquet', 'parquet_export / USING parquet(…)', 'works'),
  ('tiering', 'tier_flush / tier_restore / tier_partitions', 'works'),
  ('retention', 'retention= / tier_expire', 'works'),
  ('things tiering', 'things(tier=, hot_months=)', 'works (relationship payloads stay hot)'),
  ('time buckets', 'time_bucket / time_bucket_ms', 'works'),
  ('rollups', 'CREATE VIRTUAL TABLE … USING rollup(…)', 'works (column-wise once settled)'))
SELECT area, sql_surface AS "SQL", status FROM modules;
