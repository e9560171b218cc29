import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerConfig } from './env.ts';

const DEV_SECRET_FILE = 'dev-secret';

/**
 * The HS256 secret tokens are signed with: AUTH_JWT_SECRET, or outside production a random
 * secret created once under DATA_DIR so restarts and the token CLI agree on it.
 */
export async function resolveJwtSecret(config: ServerConfig): Promise<string> {
  if (config.authJwtSecret !== undefined) return config.authJwtSecret;
  const path = join(config.dataDir, DEV_SECRET_FILE);
  try {
    const existing = (await readFile(path, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(config.dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  // 'wx' fails if another process created it first; then that one's secret is the secret.
  try {
    await writeFile(path, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return (await readFile(path, 'utf8')).trim();
  }
}
