// Compares two Parquet files row by row and column by column, both read by DuckDB: the file as written, and what a
// reader made of it (the batches Dora's Flight served, written back to Parquet by the test).
//   node duckdb-compare.cjs WRITTEN SERVED
// Prints {"rows": [written, served], "columns": {name: {"mismatches": n, "first": "row: written | served"}}}.
const { DuckDBInstance } = require('@duckdb/node-api');

// Types Arrow maps without a Parquet logical type of their own come back as plain bytes; these compare the bytes.
const le32 = (x) => `(SELECT substr(h, 7, 2) || substr(h, 5, 2) || substr(h, 3, 2) || substr(h, 1, 2) FROM (SELECT lpad(lower(hex((${x})::UBIGINT)), 8, '0') AS h))`;
const months = (x) => `(datepart('year', ${x}) * 12 + datepart('month', ${x}))`;
const days = (x) => `datepart('day', ${x})`;
const millis = (x) => `round(epoch(${x} - to_months(${months(x)}) - to_days(${days(x)})) * 1000)`;
const special = {
  u: [(a) => `replace(${a}::VARCHAR, '-', '')`, (b) => `lower(hex(${b}))`],
  iv: [(a) => `${le32(months(a))} || ${le32(days(a))} || ${le32(millis(a))}`, (b) => `lower(hex(${b}))`],
};

async function main() {
  const [written, served] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`CREATE VIEW a AS SELECT row_number() OVER () AS rn, * FROM read_parquet('${written}')`);
  await c.run(`CREATE VIEW b AS SELECT row_number() OVER () AS rn, * FROM read_parquet('${served}')`);
  const count = async (view) => Number((await c.runAndReadAll(`SELECT count(*) FROM ${view}`)).getRows()[0][0]);
  const names = (await c.runAndReadAll(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('${written}'))`)).getRows().map((r) => r[0]);
  const result = { rows: [await count('a'), await count('b')], columns: {} };
  for (const name of names) {
    const q = `"${name}"`;
    const [left, right] = special[name] ? [special[name][0](`a.${q}`), special[name][1](`b.${q}`)] : [`a.${q}`, `b.${q}`];
    const differing = `FROM a FULL JOIN b USING (rn) WHERE (${left}) IS DISTINCT FROM (${right})`;
    const mismatches = Number((await c.runAndReadAll(`SELECT count(*) ${differing}`)).getRows()[0][0]);
    let first = null;
    if (mismatches > 0) {
      const row = (await c.runAndReadAll(`SELECT rn, (${left})::VARCHAR, (${right})::VARCHAR ${differing} ORDER BY rn LIMIT 1`)).getRows()[0];
      first = `${row[0]}: ${row[1]} | ${row[2]}`;
    }
    result.columns[name] = { mismatches, first };
  }
  process.stdout.write(JSON.stringify(result));
}

main().catch((e) => { console.error(e); process.exit(1); });
