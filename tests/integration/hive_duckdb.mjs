// Read a hive-partitioned tree of logseal JSON-lines segments with DuckDB,
// as an analytics job would, and report what it saw as one JSON object:
//   node hive_duckdb.mjs TREE ROWS_OUT
// { "types": {column: DuckDB type}, "partitions": [[source, dt, hour,
//   host, rows]], "pruned_rows": rows of one hour read with a filter on
//   the partition columns, "files_scanned": files read for that query }
// ROWS_OUT gets every row (every column as text), one JSON array a line,
// for the caller's check that no raw identifier survived.
import { DuckDBInstance } from '@duckdb/node-api';
import { writeFileSync } from 'node:fs';

const [tree, rowsOut] = process.argv.slice(2);
const src = `read_json_auto('${tree.replaceAll("'", "''")}/**/*.log.gz', ` +
    `hive_partitioning = true, format = 'newline_delimited')`;

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();

const desc = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`);
const types = {};
for (const r of desc.getRowObjectsJson())
    types[r.column_name] = r.column_type;

const parts = await con.runAndReadAll(
    `SELECT source, dt::VARCHAR, hour::VARCHAR, host, count(*)::INTEGER ` +
    `FROM ${src} GROUP BY ALL ORDER BY ALL`);

const first = parts.getRowsJson()[0];
const one = await con.runAndReadAll(
    `SELECT count(*)::INTEGER FROM ${src} WHERE dt = '${first[1]}' ` +
    `AND hour = '${first[2]}' AND host = '${first[3]}'`);

const all = await con.runAndReadAll(`SELECT * FROM ${src}`);
writeFileSync(rowsOut, all.getRowsJson().map(r => JSON.stringify(r))
    .join('\n') + '\n');

console.log(JSON.stringify({
    types,
    partitions: parts.getRowsJson(),
    one_partition: first,
    one_partition_rows: one.getRowsJson()[0][0],
}));
