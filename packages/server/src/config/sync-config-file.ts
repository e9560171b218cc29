import { readFile } from 'node:fs/promises';
import {
  ENTITY_CONFLICT_CONFIG,
  applySyncConfig,
  parseSyncConfigText,
  type EntityConflictConfigMap,
} from '@sync-engine/shared';
import { ConfigError } from './env.ts';

/**
 * The conflict config in force: the declared ENTITY_CONFLICT_CONFIG with the SYNC_CONFIG
 * file's overrides. A missing or invalid file stops start-up with one line saying why.
 */
export async function loadConflictConfig(path: string | undefined): Promise<EntityConflictConfigMap> {
  if (path === undefined) return ENTITY_CONFLICT_CONFIG;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`SYNC_CONFIG: cannot read ${path}: ${(err as Error).message}`);
  }
  const parsed = parseSyncConfigText(text);
  if (!parsed.ok) throw new ConfigError(`${parsed.message} (in ${path})`);
  return applySyncConfig(ENTITY_CONFLICT_CONFIG, parsed.config);
}
