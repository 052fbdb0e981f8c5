-- strata demo: run by the README's first command (scripts/demo.sh) through the sqlite3 shell,
-- from the repository root, on a fresh database build/demo/demo.db.
.bail on
.headers on
.mode box
.load ./build/libstrata

SELECT 'strata ' || strata_version() || ' loaded into SQLite ' || sqlite_version() AS "strata";

-- What the extension adds to this connection so far.
SELECT name AS "SQL function", narg AS "arguments",
       CASE WHEN flags & 0x800 THEN 'yes' ELSE 'no' END AS deterministic
  FROM pragma_function_list
 WHERE name LIKE 'strata%' OR name LIKE 'columnar%' OR name LIKE 'bloom%'
    OR name LIKE 'vec%' OR name LIKE 'hnsw%' OR name LIKE 'graph%' OR name LIKE 'tier%'
    OR name LIKE 'parquet%'
 ORDER BY name;

-- Loading twice is harmless.
.load ./build/libstrata
SELECT strata_version() AS "after a second .load";

-- The roadmap, from docs/: what works today and what comes next.
WITH modules(area, sql_surface, status) AS (VALUES
  ('foundation', 'strata_version()', 'works'),
  ('column store', 'CREATE VIRTUAL TABLE … USING columnar(…)', 'not yet'),
  ('skip indexes', 'bloom_build / bloom_contains / zone maps', 'not yet'),
  ('vector search', 'CREATE VIRTUAL TABLE … USING hnsw(…)', 'not yet'),
  ('graph', 'things / relationships / graph_traverse', 'not yet'),
  ('tiering', 'tier_flush / tier_restore / parquet_export', 'not yet'))
SELECT area, sql_surface AS "SQL", status FROM modules;
