import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorEnvelopeSchema } from '@sync-engine/shared';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/env.ts';
import { createTokenService } from '../../src/http/auth-tokens.ts';
import { createTestDatabase } from '../support/test-database.ts';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/test-server.ts';

const pushBody = () => ({
  syncOperationId: randomUUID(),
  deviceId: 'd1',
  changes: [
    {
      requestId: 'r1',
      entityType: 'goals',
      entityId: 'g1',
      changeType: 'CREATE',
      changeData: { name: 'Walk' },
      syncVersion: 0,
    },
  ],
});

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { BODY_LIMIT_BYTES: '4096' } });
});
afterAll(async () => server.close());

/** POSTs a gzip-encoded push body as u1. */
async function postGzip(body: Buffer): Promise<Response> {
  const token = await server.token('u1');
  return fetch(`${server.url}/api/v1/sync/push`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    },
    body,
  });
}

/** Every error answer carries the envelope and the response's correlation id. */
function expectEnvelope(
  answer: { status: number; headers: Headers; body: unknown },
  status: number,
  code: string,
) {
  expect(answer.status).toBe(status);
  const parsed = ErrorEnvelopeSchema.parse(answer.body);
  expect(parsed.error.code).toBe(code);
  expect(parsed.error.correlationId).toBe(answer.headers.get('x-correlation-id'));
}

describe('authentication', () => {
  it('no token → 401 UNAUTHENTICATED', async () => {
    expectEnvelope(await server.request('GET', '/api/v1/sync/changes'), 401, 'UNAUTHENTICATED');
  });

  it('a token signed with another secret → 401', async () => {
    const forged = await createTokenService('another-secret-that-is-long-enough-000').issue('u1');
    expectEnvelope(
      await server.request('GET', '/api/v1/sync/changes', { token: forged }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('an expired token → 401', async () => {
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const answer = await server.request('GET', '/api/v1/sync/changes', { token: expired });
    expectEnvelope(answer, 401, 'UNAUTHENTICATED');
    expect(JSON.stringify(answer.body)).toContain('expired');
  });

  it('a token whose sub is longer than 128 characters → 401', async () => {
    const long = await createTokenService(TEST_JWT_SECRET).issue('x'.repeat(129));
    expectEnvelope(
      await server.request('GET', '/api/v1/sync/changes', { token: long }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('an alg=none token → 401', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'u1' })).toString('base64url');
    expectEnvelope(
      await server.request('GET', '/api/v1/sync/changes', { token: `${header}.${payload}.` }),
      401,
      'UNAUTHENTICATED',
    );
  });
});

describe('correlation ids', () => {
  it('echoes a well-formed X-Correlation-ID', async () => {
    const answer = await server.request('GET', '/healthz', {
      headers: { 'x-correlation-id': 'client-abc_1.2' },
    });
    expect(answer.headers.get('x-correlation-id')).toBe('client-abc_1.2');
  });

  it('replaces a malformed one with a generated id', async () => {
    const answer = await server.request('GET', '/healthz', {
      headers: { 'x-correlation-id': 'bad id with spaces' },
    });
    expect(answer.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('request limits and parsing', () => {
  it('an unknown route → 404 NOT_FOUND envelope', async () => {
    expectEnvelope(await server.request('GET', '/api/v1/nope', { user: 'u1' }), 404, 'NOT_FOUND');
  });

  it('a JSON route sent text/plain → 415', async () => {
    const answer = await server.request('POST', '/api/v1/sync/push', {
      user: 'u1',
      body: JSON.stringify(pushBody()),
      headers: { 'content-type': 'text/plain' },
    });
    expectEnvelope(answer, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('a body over the limit → 413', async () => {
    const body = { ...pushBody(), padding: 'x'.repeat(5000) };
    expectEnvelope(
      await server.request('POST', '/api/v1/sync/push', { user: 'u1', body }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('a gzip body is inflated and applied', async () => {
    const res = await postGzip(gzipSync(JSON.stringify(pushBody())));
    expect(res.status).toBe(200);
  });

  it('a small gzip body that inflates past the limit → 413', async () => {
    const bomb = gzipSync(JSON.stringify({ ...pushBody(), padding: ' '.repeat(200_000) }));
    expect(bomb.length).toBeLessThan(4096);
    const res = await postGzip(bomb);
    expect(res.status).toBe(413);
  });

  it('a corrupt gzip body → 400, never 500', async () => {
    const res = await postGzip(Buffer.from('definitely not gzip'));
    expect(res.status).toBe(400);
  });

  it('JSON nested deeper than 64 → 400 VALIDATION_ERROR', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    expectEnvelope(
      await server.request('POST', '/api/v1/sync/push', {
        user: 'u1',
        body: { ...pushBody(), deep },
      }),
      400,
      'VALIDATION_ERROR',
    );
  });

  it('malformed JSON → 400 VALIDATION_ERROR', async () => {
    expectEnvelope(
      await server.request('POST', '/api/v1/sync/push', { user: 'u1', body: '{"changes": [' }),
      400,
      'VALIDATION_ERROR',
    );
  });

  it('a malformed envelope → 400 with field details', async () => {
    const answer = await server.request<{ error: { details: { field: string }[] } }>(
      'POST',
      '/api/v1/sync/push',
      {
        user: 'u1',
        body: { syncOperationId: 'not-a-uuid', deviceId: '', changes: [] },
      },
    );
    expectEnvelope(answer, 400, 'VALIDATION_ERROR');
    expect(answer.body.error.details.map((d) => d.field)).toEqual(
      expect.arrayContaining(['syncOperationId', 'deviceId', 'changes']),
    );
  });
});

describe('probes', () => {
  it('/healthz and /readyz answer without a token', async () => {
    expect((await server.request('GET', '/healthz')).status).toBe(200);
    expect(await server.request('GET', '/readyz')).toMatchObject({
      status: 200,
      body: { status: 'ready' },
    });
  });
});

describe('logs', () => {
  it('are JSON lines with the correlation id and never the bearer token', async () => {
    await using database = await createTestDatabase();
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const tokens = createTokenService(TEST_JWT_SECRET);
    const app = await buildApp({
      config: loadConfig({ AUTH_JWT_SECRET: TEST_JWT_SECRET }),
      database: {
        db: database.db,
        driver: database.driver,
        close: async () => {},
        [Symbol.asyncDispose]: async () => {},
      },
      tokens,
      cursorKey: TEST_JWT_SECRET,
      logger: { level: 'info', stream },
    });
    const token = await tokens.issue('u1');
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/sync/ws?token=${token}`,
      headers: { authorization: `Bearer ${token}`, 'x-correlation-id': 'trace-me-1' },
    });
    await app.close();
    expect(res.headers['x-correlation-id']).toBe('trace-me-1');
    const mine = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['correlationId'] === 'trace-me-1');
    expect(mine.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(token);
  });
});
