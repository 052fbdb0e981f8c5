// DuckDB as the independent Parquet reader and writer of the interop tests
// (tests/unit/test_parquet_duckdb.cpp). It lives beside node_modules so that its import resolves.
//
//   node duckdb_parquet.mjs read  REQUEST.json   reads a Parquet file strata wrote
//   node duckdb_parquet.mjs write REQUEST.json   writes one from a query, for strata to read
//   node duckdb_parquet.mjs bench REQUEST.json   times COPY … (FORMAT parquet, COMPRESSION zstd)
//                                                and read_parquet on one thread (bench/parquet_bench)
//   node duckdb_parquet.mjs query REQUEST.json   runs {"sql": "..."} (a tiered table's hive
//                                                layout, tests/unit/test_tiering.cpp)
//   node duckdb_parquet.mjs corpus REQUEST.json  reads each of a list of files from other writers
//                                                (tests/unit/test_parquet_corpus.cpp)
//
// REQUEST for read:  {"file": "...", "probes": [{"column": "c", "value": "SQL literal"}, ...]}
// REQUEST for write: {"file": "...", "query": "SELECT ...", "options": "FORMAT parquet, ..."}
// REQUEST for corpus: {"files": ["...", ...]}; per file either {"file", "error"} (DuckDB cannot
//   read it) or {"file", "columns": [...]} with each column converted to what strata's reader
//   gives for it (docs/format-parquet.md: dates as days, timestamps and times as the stored
//   number in the file's unit, INT96 as microseconds, decimals as doubles, UUIDs as 16 bytes,
//   unsigned 64-bit as two's complement, NaN as NULL, LIST/MAP/STRUCT as JSON text), or
//   "uncompared" for a
//   type strata has no agreed form for.
// REQUEST for bench: {"query": "SELECT ...", "file": "where DuckDB writes", "read": ["files to
//   read", ...], "check": "SELECT … (run on the table and on each file as t)", "repetitions": N}
//
// Prints one JSON object: per column its DuckDB type, row count and the SHA-256 of its values in
// a canonical form (one line per row: n | i<decimal> | r<16 hex digits of the double's bits> |
// t<hex of UTF-8> | b<hex>, joined by \n), which the C++ side computes the same way from what
// strata wrote or read. For read, also parquet_metadata() and parquet_bloom_probe() results.
import { DuckDBInstance } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

function canonical(value) {
  if (value === null || value === undefined) return 'n';
  if (typeof value === 'bigint') return 'i' + value.toString();
  if (typeof value === 'number') {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value);
    return 'r' + view.getBigUint64(0).toString(16).padStart(16, '0');
  }
  if (typeof value === 'string') return 't' + Buffer.from(value, 'utf8').toString('hex');
  if (typeof value === 'boolean') return 'i' + (value ? '1' : '0');
  if (typeof value.toDouble === 'function') return canonical(value.toDouble());  // DECIMAL
  if (value.bytes instanceof Uint8Array) return 'b' + Buffer.from(value.bytes).toString('hex');
  throw new Error('unexpected DuckDB value: ' + String(value));
}

// Integer columns of narrower DuckDB types come back as JS numbers: print them as integers.
function canonicalFor(typeName) {
  const integer = ['TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT', 'UINTEGER'].includes(typeName);
  return integer ? (v) => (v === null ? 'n' : 'i' + v.toString()) : canonical;
}

async function digestColumns(connection, sql) {
  const result = await connection.stream(sql);
  const names = result.columnNames();
  const types = result.columnTypes().map((t) => t.toString());
  const hashes = names.map(() => createHash('sha256'));
  const encoders = types.map(canonicalFor);
  const first = names.map(() => true);
  let rows = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const columns = chunk.getColumns();
    for (let c = 0; c < columns.length; ++c) {
      const parts = [];
      for (const v of columns[c]) parts.push(encoders[c](v));
      hashes[c].update((first[c] ? '' : '\n') + parts.join('\n'));
      first[c] = false;
    }
    rows += chunk.rowCount;
  }
  return names.map((name, c) => ({ name, type: types[c], rows, sha256: hashes[c].digest('hex') }));
}

function quote(s) {
  return "'" + String(s).replaceAll("'", "''") + "'";
}

function quoteName(s) {
  return '"' + String(s).replaceAll('"', '""') + '"';
}

// The SQL that turns column `name` (DuckDB type `type`; `leaf`: its parquet_schema() row, when
// the column is a leaf) into the value strata's reader gives, or null when there is none.
function strataForm(name, type, leaf) {
  const c = quoteName(name);
  const unit = (leaf?.logical_type ?? '') + ' ' + (leaf?.converted_type ?? '');
  const scaleTo = (expression) => {
    if (leaf?.type === 'INT96') return `epoch_us(${expression})`;
    if (/NANOS/.test(unit)) return `epoch_ns(${expression})`;
    if (/MILLIS/.test(unit)) return `epoch_ms(${expression})`;
    return `epoch_us(${expression})`;
  };
  if (type === 'BOOLEAN') return `CAST(${c} AS INTEGER)`;
  if (['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER'].includes(type)) return c;
  if (type === 'UBIGINT') {
    return `CAST(CASE WHEN ${c} >= 9223372036854775808 THEN CAST(${c} AS HUGEINT) - 18446744073709551616 ELSE ${c} END AS BIGINT)`;
  }
  // SQLite has no NaN: a NaN REAL reads as NULL.
  if (type === 'FLOAT' || type === 'DOUBLE' || type.startsWith('DECIMAL')) {
    return `CASE WHEN isnan(CAST(${c} AS DOUBLE)) THEN NULL ELSE CAST(${c} AS DOUBLE) END`;
  }
  if (type === 'VARCHAR' || type === 'BLOB' || type === 'JSON') return c;
  if (type.startsWith('ENUM')) return `CAST(${c} AS VARCHAR)`;
  if (type === 'UUID') return `unhex(replace(CAST(${c} AS VARCHAR), '-', ''))`;
  if (type === 'DATE') return `CAST(${c} - DATE '1970-01-01' AS BIGINT)`;
  if (type.startsWith('TIMESTAMP')) return scaleTo(c);
  if (type.startsWith('TIME')) {
    const micros = `CAST(date_diff('microsecond', TIME '00:00:00', CAST(${c} AS TIME)) AS BIGINT)`;
    if (/NANOS/.test(unit)) return `${micros} * 1000`;
    if (/MILLIS/.test(unit)) return `${micros} // 1000`;
    return micros;
  }
  if (type.endsWith('[]') || type.startsWith('STRUCT') || type.startsWith('MAP')) return `CAST(to_json(${c}) AS VARCHAR)`;
  return null;
}

async function corpusEntry(connection, file) {
  try {
    const described = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${quote(file)})`)).getRowObjectsJson();
    const leaves = new Map();
    for (const row of (await connection.runAndReadAll(
      `SELECT name, type, converted_type, logical_type FROM parquet_schema(${quote(file)})`)).getRowObjectsJson()) {
      leaves.set(row.name, row);
    }
    const forms = described.map((d) => ({ name: d.column_name, type: d.column_type,
                                          sql: strataForm(d.column_name, d.column_type, leaves.get(d.column_name)) }));
    const compared = forms.filter((f) => f.sql !== null);
    const columns = compared.length === 0 ? [] : await digestColumns(connection,
      `SELECT ${compared.map((f) => `${f.sql} AS ${quoteName(f.name)}`).join(', ')} FROM read_parquet(${quote(file)})`);
    const rows = (await connection.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${quote(file)})`)).getRowObjectsJson()[0].n;
    return { file, rows: Number(rows), columns,
             uncompared: forms.filter((f) => f.sql === null).map((f) => ({ name: f.name, type: f.type })) };
  } catch (error) {
    return { file, error: String(error.message ?? error) };
  }
}

async function main() {
  const [command, requestFile] = process.argv.slice(2);
  const request = JSON.parse(readFileSync(requestFile, 'utf8'));
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const out = {};
  if (command === 'read') {
    out.columns = await digestColumns(connection, `SELECT * FROM read_parquet(${quote(request.file)})`);
    const metadata = await connection.runAndReadAll(
      `SELECT row_group_id, path_in_schema, type, num_values, stats_min_value, stats_max_value,
              stats_null_count, compression, encodings, bloom_filter_offset, bloom_filter_length
       FROM parquet_metadata(${quote(request.file)}) ORDER BY row_group_id, column_id`);
    out.metadata = metadata.getRowObjectsJson();
    const created = await connection.runAndReadAll(
      `SELECT created_by, num_rows, num_row_groups, format_version FROM parquet_file_metadata(${quote(request.file)})`);
    out.file = created.getRowObjectsJson()[0];
    out.probes = [];
    for (const probe of request.probes ?? []) {
      const reader = await connection.runAndReadAll(
        `SELECT row_group_id, bloom_filter_excludes FROM parquet_bloom_probe(${quote(request.file)},
           ${quote(probe.column)}, ${probe.value}) ORDER BY row_group_id`);
      out.probes.push({ column: probe.column, value: probe.value, row_groups: reader.getRowObjectsJson() });
    }
  } else if (command === 'write') {
    await connection.run(`CREATE TABLE t AS ${request.query}`);
    await connection.run(`COPY t TO ${quote(request.file)} (${request.options})`);
    out.columns = await digestColumns(connection, 'SELECT * FROM t');
  } else if (command === 'query') {
    out.columns = await digestColumns(connection, request.sql);
  } else if (command === 'corpus') {
    out.files = [];
    for (const file of request.files) out.files.push(await corpusEntry(connection, file));
  } else if (command === 'bench') {
    const { statSync } = await import('node:fs');
    const elapsed = async (sql) => {
      const start = process.hrtime.bigint();
      await connection.run(sql);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    await connection.run(`CREATE TABLE t AS ${request.query}`);
    const check = async (from) =>
      JSON.stringify((await connection.runAndReadAll(request.check.replaceAll('@FROM@', from))).getRowsJson());
    out.check = { table: await check('t') };
    out.write_ms = [];
    for (let r = 0; r < request.repetitions; ++r) {
      out.write_ms.push(await elapsed(`COPY t TO ${quote(request.file)} (FORMAT parquet, COMPRESSION zstd)`));
    }
    out.bytes = statSync(request.file).size;
    out.read_ms = {};
    for (const file of request.read) {
      const source = `read_parquet(${quote(file)})`;
      out.check[file] = await check(source);
      out.read_ms[file] = [];
      for (let r = 0; r < request.repetitions; ++r) {
        // Every column decoded: DuckDB pushes projections down, so each one is asked for.
        out.read_ms[file].push(await elapsed(`SELECT max(COLUMNS(*)) FROM ${source}`));
      }
    }
  } else if (command === 'timed') {
    // Queries over a table `t` made by request.query: each run request.repetitions times, its
    // times in ms and its rows (values as text, '|' between columns, '\n' between rows).
    await connection.run(`CREATE TABLE t AS ${request.query}`);
    out.ms = {};
    out.rows = {};
    for (const { name, sql } of request.queries) {
      out.ms[name] = [];
      let reader = null;
      for (let r = 0; r < request.repetitions; ++r) {
        const start = process.hrtime.bigint();
        reader = await connection.runAndReadAll(sql);
        out.ms[name].push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      out.rows[name] = reader.getRowsJson().map((row) => row.map(String).join('|')).join('\n');
    }
  } else {
    throw new Error('usage: duckdb_parquet.mjs read|write|query|bench|corpus|timed REQUEST.json');
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error.stack ?? error) + '\n');
  process.exit(1);
});
