import { readFile, unlink, writeFile } from 'node:fs/promises';

/** Lock files this process holds, so a second open in the same process is refused too. */
const heldLocks = new Set<string>();

export interface DataDirLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(lockPath: string): Promise<number | null> {
  try {
    const pid = Number.parseInt(await readFile(lockPath, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Takes the exclusive lock on an embedded database directory.
 *
 * PGlite has no postmaster: two processes opening one data directory each run their own
 * PostgreSQL over the same files, and writes are silently lost or the files corrupted.
 * The lock file holds the owner's pid; a lock whose owner is gone (a crash) is taken over.
 * A pid equal to ours that we do not hold is stale too (a container restart reuses low pids).
 *
 * @throws when another live process (or this one) already holds the lock.
 */
export async function acquireDataDirLock(lockPath: string): Promise<DataDirLock> {
  if (heldLocks.has(lockPath)) {
    throw new Error(`The embedded database lock ${lockPath} is already held by this process`);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: 'wx' });
      heldLocks.add(lockPath);
      return {
        async release() {
          if (!heldLocks.delete(lockPath)) return;
          await unlink(lockPath).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = await readOwner(lockPath);
      if (owner !== null && owner !== process.pid && isAlive(owner)) {
        throw new Error(
          `The embedded database is in use by process ${owner} (lock file ${lockPath}). ` +
            'Stop that process, or set DATABASE_URL to share a PostgreSQL server between processes.',
          { cause: error },
        );
      }
      // Stale lock left by a process that is gone: remove it and try once more.
      await unlink(lockPath).catch(() => undefined);
    }
  }
  throw new Error(`Could not take the embedded database lock ${lockPath}`);
}
