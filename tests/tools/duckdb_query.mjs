// Run one SQL query in an in-memory DuckDB (npm @duckdb/node-api) and
// print its rows as JSON, one array of objects on stdout; the column
// types as a second line ({"name": "BIGINT", ...}).
//
//   node duckdb_query.mjs 'SELECT ...'
//
// NODE_PATH is not read by ES modules: the test passes the package's
// directory in LSL_DUCKDB_MODULE and this script imports it from there.
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const dir = process.env.LSL_DUCKDB_MODULE;
const entry = path.join(dir, 'lib', 'index.js');
const duckdb = await import(pathToFileURL(entry).href);
const instance = await duckdb.DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const reader = await connection.runAndReadAll(process.argv[2]);
const names = reader.columnNames();
const types = reader.columnTypes().map((t) => t.toString());
process.stdout.write(JSON.stringify(reader.getRowObjectsJson()) + '\n');
process.stdout.write(
  JSON.stringify(Object.fromEntries(names.map((n, i) => [n, types[i]]))) +
    '\n');
