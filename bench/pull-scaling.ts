import { sql } from 'kysely';
import { createCursorCodec } from '@sync-engine/shared';
import { PullService } from '../packages/server/src/sync/pull/pull-service.ts';
import { openBenchDatabase, summarize } from './bench-database.ts';

const USER = 'bench-user';
const PAGE = 500;

/**
 * Pull of a 500-change page as the feed grows: the page's cost must not depend on how
 * many changes are stored (keyset reads on (user_id, xid, seq)). Other users' changes are
 * stored too, as in a shared production database.
 */
export async function pullScaling(sizes: readonly number[]): Promise<Record<string, unknown>[]> {
  await using database = await openBenchDatabase();
  const db = database.db;
  const pull = new PullService(db, createCursorCodec('bench-cursor-key-0123456789abcdef'), 'catalog');
  const rows: Record<string, unknown>[] = [];
  let stored = 0;
  for (const size of sizes) {
    // Grow the feed to `size`: products rows and one CREATE change each; 9 in 10 belong to other users.
    const add = size - stored;
    const chunk = 100_000;
    for (let done = 0; done < add; done += chunk) {
      const n = Math.min(chunk, add - done);
      await sql`
        with ins as (
          insert into products (id, user_id, name, effects, is_public)
          select gen_random_uuid(), case when g % 10 = 0 then ${USER} else 'other-' || (g % 97) end, 'p' || g, '[]'::jsonb, false
          from generate_series(1, ${n}) g
          returning id, user_id
        )
        insert into sync_changes (user_id, entity_type, entity_id, change_type, version, origin_device_id)
        select user_id, 'products', id, 'CREATE', 1, 'seed' from ins`.execute(db);
    }
    stored = size;
    await sql`analyze`.execute(db);

    // Page through this user's whole feed; every page is timed.
    const samples: number[] = [];
    let cursor: string | undefined;
    for (;;) {
      const t0 = performance.now();
      const result = await pull.pull(USER, { cursor, limit: PAGE, scope: 'user' });
      samples.push(performance.now() - t0);
      cursor = result.body.cursor;
      if (!result.body.hasMore) break;
    }
    const s = summarize(samples);
    rows.push({ scenario: 'pull 500-change page', storedChanges: size, samples: samples.length, medianMs: s.median.toFixed(2), p95Ms: s.p95.toFixed(2) });
  }
  return rows;
}
