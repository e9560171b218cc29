import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_DATABASE_URL } from '../support/test-database.ts';
import { runCli, startServerProcess } from '../support/server-process.ts';

// A bare machine: no database, no Redis, no secret; only what the command itself creates.
const BARE = { DATABASE_URL: '', REDIS_URL: '', AUTH_JWT_SECRET: '', DATA_DIR: '', NODE_ENV: '' };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sync-engine-start-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pushProduct(url: string, token: string, name: string): Promise<Response> {
  return fetch(`${url}/api/v1/sync/push`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      syncOperationId: randomUUID(),
      deviceId: 'd1',
      changes: [
        {
          requestId: randomUUID(),
          entityType: 'products',
          entityId: randomUUID(),
          changeType: 'CREATE',
          changeData: { name },
          syncVersion: 0,
        },
      ],
    }),
  });
}

describe('starting the server', () => {
  it('serves /healthz on a bare directory, creates ./.data, and a second start reuses the data and the dev secret', async () => {
    const cwd = join(dir, 'bare');
    await import('node:fs/promises').then((fs) => fs.mkdir(cwd));
    {
      await using server = await startServerProcess({ cwd, env: BARE, timeoutMs: 30_000 });
      expect(existsSync(join(cwd, '.data'))).toBe(true);
      const token = (await runCli(['token', '--user', 'u1'], { cwd, env: BARE })).stdout.trim();
      expect((await pushProduct(server.url, token, 'Kept across restarts')).status).toBe(200);
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    await using again = await startServerProcess({ cwd, env: BARE, timeoutMs: 30_000 });
    const token = (await runCli(['token', '--user', 'u1'], { cwd, env: BARE })).stdout.trim();
    const pulled = await fetch(`${again.url}/api/v1/sync/changes`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(pulled.status).toBe(200);
    const body = (await pulled.json()) as { changes: { data: { name: string } }[] };
    expect(body.changes.map((c) => c.data.name)).toEqual(['Kept across restarts']);
  });

  it('the token command prints an admin token the server accepts, and a missing token gets 401 with the envelope', async () => {
    const cwd = join(dir, 'token');
    await import('node:fs/promises').then((fs) => fs.mkdir(cwd));
    await using server = await startServerProcess({ cwd, env: BARE });
    const cli = await runCli(['token', '--user', 'u1', '--admin'], { cwd, env: BARE });
    expect(cli.code).toBe(0);
    const [, payload] = cli.stdout.trim().split('.');
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toMatchObject({
      sub: 'u1',
      role: 'admin',
    });
    const ok = await fetch(`${server.url}/api/v1/sync/status?deviceId=d1`, {
      headers: { authorization: `Bearer ${cli.stdout.trim()}` },
    });
    expect(ok.status).toBe(200);
    const denied = await fetch(`${server.url}/api/v1/sync/status?deviceId=d1`);
    expect(denied.status).toBe(401);
    const body = (await denied.json()) as { error: { code: string; correlationId: string } };
    expect(body.error.code).toBe('UNAUTHENTICATED');
    expect(body.error.correlationId).toBe(denied.headers.get('x-correlation-id'));
  });

  it.skipIf(TEST_DATABASE_URL === undefined)(
    'DATABASE_URL naming an empty PostgreSQL database: migrates it and serves',
    async () => {
      await using fresh = await createTestDatabase({ driver: 'postgres', migrate: false });
      await using server = await startServerProcess({
        env: { ...BARE, DATA_DIR: join(dir, 'pg'), DATABASE_URL: fresh.databaseUrl! },
      });
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', database: 'postgres' });
    },
  );

  it('migrate applies the migrations and exits 0', async () => {
    const result = await runCli(['migrate'], { env: { ...BARE, DATA_DIR: join(dir, 'migrate') } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('migrated');
  });
});

describe('refusing to start on bad configuration', () => {
  it.each([
    [{ NODE_ENV: 'production' }, /AUTH_JWT_SECRET is required/],
    [{ PORT: 'eighty' }, /PORT must be an integer/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with postgres/],
    [{ AUTH_JWT_SECRET: 'short' }, /AUTH_JWT_SECRET must be at least 32 characters/],
    [{ CAPTURE_ENABLED: 'maybe' }, /CAPTURE_ENABLED must be true or false/],
  ])('%j stops start-up with one line naming the variable', async (env, message) => {
    const result = await runCli(['start'], {
      env: { ...BARE, DATA_DIR: join(dir, 'refuse'), ...env },
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('an invalid SYNC_CONFIG file stops start-up naming the bad path', async () => {
    const file = join(dir, 'sync-config.json');
    await writeFile(
      file,
      JSON.stringify({ entities: { goals: { defaultStrategy: 'SOMETIMES' } } }),
    );
    const result = await runCli(['start'], {
      env: { ...BARE, DATA_DIR: join(dir, 'refuse'), SYNC_CONFIG: file },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/entities\.goals\.defaultStrategy/);
  });
});
