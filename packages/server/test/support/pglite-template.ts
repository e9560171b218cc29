import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPglite, databaseFromPglite } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

/*
 * Starting PGlite from nothing runs initdb in WebAssembly (seconds, more on a busy machine);
 * loading a dumped data directory skips it (about a second). So test databases are copies
 * of a template: built once per machine and kept in the OS temp directory under a key of
 * the PGlite version and the migration sources, so a changed migration builds a new one.
 */

const MIGRATIONS_DIR = fileURLToPath(new URL('../../src/db/migrations/', import.meta.url));
const CACHE_DIR = path.join(os.tmpdir(), 'sync-engine-test-pglite');

async function templateKey(migrated: boolean): Promise<string> {
  const hash = createHash('sha256');
  // The package exports no package.json; its entry point lives in dist/ beside it.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pglitePackage = JSON.parse(await readFile(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  hash.update(`pglite ${pglitePackage.version}\n`);
  if (migrated) {
    for (const file of (await readdir(MIGRATIONS_DIR)).sort()) {
      hash.update(`${file}\n`).update(await readFile(path.join(MIGRATIONS_DIR, file)));
    }
  }
  return `${migrated ? 'migrated' : 'empty'}-${hash.digest('hex').slice(0, 16)}`;
}

async function buildTemplate(migrated: boolean): Promise<Blob> {
  const pglite = await createPglite();
  const database = databaseFromPglite(pglite);
  try {
    if (migrated) await migrateToLatest(database.db);
    return await pglite.dumpDataDir('none');
  } finally {
    await database.close();
  }
}

async function loadOrBuildTemplate(migrated: boolean): Promise<Blob> {
  const file = path.join(CACHE_DIR, `${await templateKey(migrated)}.tar`);
  try {
    return new Blob([await readFile(file)]);
  } catch {
    const template = await buildTemplate(migrated);
    await mkdir(CACHE_DIR, { recursive: true });
    // Write then rename: parallel test processes never read a half-written file.
    const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(partial, new Uint8Array(await template.arrayBuffer()));
    await rename(partial, file);
    return template;
  }
}

const templates = new Map<boolean, Promise<Blob>>();

/** The data directory of a fresh PGlite database, migrated to the latest schema or empty. */
export function pgliteTemplate(migrated: boolean): Promise<Blob> {
  let template = templates.get(migrated);
  if (template === undefined) {
    template = loadOrBuildTemplate(migrated);
    // A failed build is not cached: the next test tries again and reports its own error.
    void template.catch(() => templates.delete(migrated));
    templates.set(migrated, template);
  }
  return template;
}
