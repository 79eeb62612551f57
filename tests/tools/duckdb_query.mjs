// Run one SQL query in an in-memory DuckDB (npm @duckdb/node-api) and
// print its rows as JSON, one array of objects on stdout; the column
// types as a second line ({"name": "BIGINT", ...}).
//
//   node duckdb_query.mjs 'SELECT ...'
//
// lslib.duckdb_dir copies this script beside the installed package, where
// the import below finds it.
import * as duckdb from '@duckdb/node-api';

const instance = await duckdb.DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const reader = await connection.runAndReadAll(process.argv[2]);
const names = reader.columnNames();
const types = reader.columnTypes().map((t) => t.toString());
process.stdout.write(JSON.stringify(reader.getRowObjectsJson()) + '\n');
process.stdout.write(
  JSON.stringify(Object.fromEntries(names.map((n, i) => [n, types[i]]))) +
    '\n');
