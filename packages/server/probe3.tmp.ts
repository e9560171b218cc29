import { PGlite } from '@electric-sql/pglite';
import { createDatabase } from './src/db/database.ts';
import { migrateToLatest } from './src/db/migrate.ts';
let t = performance.now();
const lap = (l: string) => { const n = performance.now(); console.log(l, Math.round(n - t)); t = n; };
const p = await PGlite.create(); lap('create1');
const p2 = await PGlite.create(); lap('create2');
await p.close(); await p2.close(); lap('close');
const d = await createDatabase({ databaseUrl: 'memory://', dataDir: '.' }); lap('createDatabase');
await migrateToLatest(d.db); lap('migrate');
const pg = (d.db as any).getExecutor().adapter; // not used
const dump = await (await PGlite.create()).dumpDataDir('none'); lap('dump empty');
const p3 = await PGlite.create({ loadDataDir: dump }); lap('load');
await d.close();
