// Writes the Parquet corpus of the Flight type tests with DuckDB: node duckdb-corpus.cjs DIRECTORY
// Every DuckDB type in one table (a null every 11th row), in Parquet V1 and V2 encodings with every codec, several row
// groups; a file of all-null columns; an empty file. Prints the files written, one per line.
const { DuckDBInstance } = require('@duckdb/node-api');
const path = require('path');

const rows = 5000;
const rowGroupRows = 2048;

// name -> DuckDB expression over i (0..rows-1); each is NULL where i % 11 = 5.
const columns = {
  b: `i % 3 = 0`,
  i8: `(i % 256 - 128)::TINYINT`,
  i16: `(i * 7 - 20000)::SMALLINT`,
  i32: `(i * 100003 - 250000000)::INTEGER`,
  i64: `(i * 1000000007 - 4000000000000)::BIGINT`,
  u8: `(i % 256)::UTINYINT`,
  u16: `(i * 13 % 65536)::USMALLINT`,
  u32: `(i * 429497)::UINTEGER`,
  u32hi: `(4294967295 - i * 3)::UINTEGER`,
  u64: `(18446744073709551615::UBIGINT - (i * 1000003)::UBIGINT)`,
  f32: `CASE WHEN i = 7 THEN 'nan'::FLOAT WHEN i = 8 THEN 'inf'::FLOAT ELSE (i / 7.0)::FLOAT END`,
  f64: `CASE WHEN i = 7 THEN 'nan'::DOUBLE WHEN i = 8 THEN '-inf'::DOUBLE ELSE i / 3.0 END`,
  hi: `(i::HUGEINT * 1000000000000000000000)`,
  d4: `(i % 1000 / 10)::DECIMAL(4,1)`,
  d9: `(i * 1.37)::DECIMAL(9,2)`,
  d18: `(i * 123456.789 - 99999)::DECIMAL(18,3)`,
  d38: `(i::DECIMAL(38,10) * 1234567890123.25 + 0.0000000001)::DECIMAL(38,10)`,
  s: `'text-' || i || repeat('x', i % 13)`,
  e: `(['low', 'mid', 'high'])[i % 3 + 1]::ENUM('low', 'mid', 'high')`,
  bl: `('blob' || i)::BLOB`,
  u: `('00000000-0000-4000-8000-' || lpad(i::VARCHAR, 12, '0'))::UUID`,
  j: `('{"n":' || i || ',"tags":["a","b"]}')::JSON`,
  iv: `to_months(i % 12) + to_days(i % 30) + to_microseconds(i * 1000)`,
  dt: `DATE '1969-12-25' + i::INTEGER`,
  t: `TIME '00:00:00' + to_microseconds(i * 17280000 + 123)`,
  ts: `TIMESTAMP '2020-02-28 23:59:59.123456' + to_seconds(i * 3601)`,
  tstz: `TIMESTAMPTZ '2020-02-28 23:59:59.123456+00' + to_seconds(i * 3601)`,
  ts_s: `(TIMESTAMP '1960-01-01 00:00:00' + to_seconds(i * 86399))::TIMESTAMP_S`,
  ts_ms: `(TIMESTAMP '2020-01-01 00:00:00.123' + to_seconds(i))::TIMESTAMP_MS`,
  ts_ns: `'2020-01-01 00:00:00.123456789'::TIMESTAMP_NS + to_seconds(i)`,
  l: `[i, i + 1, NULL, i + 3][1:(i % 5)]`,
  ls: `CASE WHEN i % 4 = 0 THEN [] ELSE ['a' || i, NULL, 'c'] END`,
  st: `{'x': i, 'y': 'y' || i, 'z': CASE WHEN i % 2 = 0 THEN NULL ELSE i / 2.0 END}`,
  m: `MAP {'k' || (i % 3): i, 'other': -i}`,
  nested: `{'list': [{'a': i, 'b': ['p', 'q'][1:(i % 3)]}], 'map': MAP {i: [i::DOUBLE, NULL]}}`,
  ll: `[[i], [], NULL, [i, i]]`,
};

const select = Object.entries(columns)
  .map(([name, expression]) => `CASE WHEN i % 11 = 5 THEN NULL ELSE ${expression} END AS ${name}`)
  .join(',\n  ');

async function main() {
  const dir = process.argv[2];
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`CREATE TABLE everything AS SELECT i::BIGINT AS id, ${select} FROM range(${rows}) t(i)`);
  const written = [];
  for (const version of ['V1', 'V2']) {
    for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4', 'brotli']) {
      const name = `types-${version.toLowerCase()}-${codec}.parquet`;
      // DuckDB's V2 writer stores UINTEGER values of 2^31 and above as deltas wider than the INT32 column they belong
      // to, which Arrow's reader (and so pyarrow) refuses; V2 files leave that column out (a test covers the refusal).
      const what = version === 'V2' ? 'SELECT * EXCLUDE (u32hi) FROM everything' : 'FROM everything';
      await c.run(`COPY (${what} ORDER BY id) TO '${path.join(dir, name)}' (FORMAT parquet, PARQUET_VERSION ${version}, COMPRESSION ${codec}, ROW_GROUP_SIZE ${rowGroupRows})`);
      written.push(name);
    }
  }

  // All-null columns of every type: the table's values replaced by NULLs of the same types.
  await c.run(`COPY (SELECT id, ${Object.keys(columns).map((n) => `CASE WHEN false THEN ${n} END AS ${n}`).join(', ')} FROM everything WHERE id < 100) TO '${path.join(dir, 'all-null.parquet')}' (FORMAT parquet)`);
  written.push('all-null.parquet');
  await c.run(`COPY (FROM everything WHERE false) TO '${path.join(dir, 'empty.parquet')}' (FORMAT parquet)`);
  written.push('empty.parquet');
  await c.run(`COPY (SELECT u32hi FROM everything) TO '${path.join(dir, 'duckdb-v2-wide-deltas.parquet')}' (FORMAT parquet, PARQUET_VERSION V2)`);
  written.push('duckdb-v2-wide-deltas.parquet');
  process.stdout.write(written.join('\n') + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
