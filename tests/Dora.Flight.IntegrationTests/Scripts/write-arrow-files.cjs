// Writes Arrow IPC files with apache-arrow (JS), whose file writer puts the schema only in the footer and starts with
// the dictionaries: node write-arrow-files.cjs DIRECTORY
const { Table, vectorFromArray, tableFromArrays, tableToIPC, Dictionary, Utf8, Int32 } = require('apache-arrow');
const fs = require('fs');
const path = require('path');
const dir = process.argv[2];

// Three batches of a dictionary column (one dictionary for the whole file), an int and a nullable string.
const tags = ['red', 'green', 'blue'];
const n = 3003;
const whole = new Table({
  id: vectorFromArray(Int32Array.from({ length: n }, (_, i) => i)),
  tag: vectorFromArray(Array.from({ length: n }, (_, i) => tags[i % 3]), new Dictionary(new Utf8(), new Int32())),
  name: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : `n-${i}`)), new Utf8()),
});
const withDictionary = new Table([0, 1000, 2001].map((start, b) => whole.slice(start, [1000, 2001, n][b]).batches[0]));
fs.writeFileSync(path.join(dir, 'js-dictionary.arrow'), tableToIPC(withDictionary, 'file'));
fs.writeFileSync(path.join(dir, 'js-plain.arrow'), tableToIPC(tableFromArrays({
  a: Int32Array.from([1, 2, 3]),
  b: ['p', 'q', 'r'],
  c: Float64Array.from([0.5, 1.5, 2.5]),
}), 'file'));

// What a reader must get: every row of every file, as JSON lines of [id, tag, name] / [a, b, c].
const rows = (table) => table.toArray().map((r) => JSON.stringify(Object.values(r.toJSON())));
process.stdout.write(JSON.stringify({
  'js-dictionary.arrow': { batches: withDictionary.batches.length, rows: rows(withDictionary) },
  'js-plain.arrow': { batches: 1, rows: rows(tableFromArrays({ a: Int32Array.from([1, 2, 3]), b: ['p', 'q', 'r'], c: Float64Array.from([0.5, 1.5, 2.5]) })) },
}));
