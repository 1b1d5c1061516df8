// The multi-type Parquet file of the Flight decode benchmark, written by DuckDB (snappy, DuckDB's row groups):
//   node make-file.cjs FILE ROWS
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const [file, rows] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (SELECT
      i::BIGINT AS id,
      TIMESTAMP '2024-01-01' + to_seconds(i % 31536000) AS ts,
      DATE '2020-01-01' + (i % 2000)::INTEGER AS day,
      (i % 1000000 / 100)::DECIMAL(18, 2) AS amount,
      i / 7.0 AS price,
      (i % 1000)::INTEGER AS qty,
      i % 3 = 0 AS flag,
      'city-' || (i % 50) AS city,
      md5(i::VARCHAR) AS note,
      CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 97)::DOUBLE END AS sparse
    FROM range(${rows}) t(i)) TO '${file}' (FORMAT parquet, COMPRESSION snappy)`);
}

main().catch((e) => { console.error(e); process.exit(1); });
