-- Made with strata at format 1 (commit 7f59cd4 and earlier):
--   sqlite3 hnsw-format-1.db ".load <old build>/libstrata" ".read hnsw-format-1.sql"
-- tests/unit/test_hnsw_table.cpp opens it with today's strata.
CREATE VIRTUAL TABLE v USING hnsw(embedding float[4], m=8, ef_construction=64);
CREATE TABLE expected(rowid INTEGER PRIMARY KEY, embedding BLOB);
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 60)
INSERT INTO expected SELECT n, vec_f32(json_array(sin(n), cos(n), sin(n * 0.5), n % 7)) FROM c;
INSERT INTO v(rowid, embedding) SELECT rowid, embedding FROM expected;
DELETE FROM v WHERE rowid % 9 = 0;
DELETE FROM expected WHERE rowid % 9 = 0;
