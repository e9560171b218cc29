import { Writable } from 'node:stream';
import type { HttpAnswer, TestServer } from './test-server.ts';

/*
 * Fixtures of the capture, dashboard and telemetry e2e tests: secrets to smuggle into
 * traffic, a log sink, and admin requests to the dashboard API.
 */

/** Values that must never reach a dashboard answer or a log line. */
export const SECRETS = {
  apiKey: 'sk-live-SECRET123',
  password: 'hunter2-SECRET456',
  header: 'hdr-SECRET789',
  cookie: 'cookie-SECRET000',
  serial: 'SN-SECRET-CUSTOM-KEY',
  query: 'qry-SECRET111',
} as const;

/** devices.settings holding secrets at two depths (settings is a free-form object). */
export function secretSettings(theme = 'dark') {
  return { theme, apiKey: SECRETS.apiKey, nested: { password: SECRETS.password, keep: 'visible' } };
}

/** Headers a client might send that carry credentials. */
export const SECRET_HEADERS = { 'x-api-key': SECRETS.header, cookie: `session=${SECRETS.cookie}` } as const;

/** Every secret found in `text`. */
export function leakedSecrets(text: string): string[] {
  return Object.values(SECRETS).filter((s) => text.includes(s));
}

/** A pino destination collecting the app's log lines. */
export function createLogSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { stream, lines };
}

export const DASHBOARD = '/tether/dashboard';

/** A GET of the dashboard API as an admin (`path` after the prefix). */
export async function dashboardGet<T = unknown>(server: TestServer, path: string): Promise<HttpAnswer<T>> {
  return server.request<T>('GET', `${server.config.dashboardPrefix}${path}`, { user: 'ops-admin', admin: true });
}

/** A dashboard GET that must answer 200; returns the body. */
export async function dashboardOk<T = unknown>(server: TestServer, path: string): Promise<T> {
  const answer = await dashboardGet<T>(server, path);
  if (answer.status !== 200) throw new Error(`GET ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}
