import { WebSocket } from 'ws';
import { SyncWsEventSchema, type SyncWsEvent } from '@sync-engine/shared';

export interface TestSocket extends AsyncDisposable {
  readonly socket: WebSocket;
  /** Every event received so far, each checked against the shared SyncWsEventSchema. */
  readonly events: SyncWsEvent[];
  /** Resolves with the first event (already received or not) that matches, or rejects after `ms`. */
  next(match: (event: SyncWsEvent) => boolean, ms?: number): Promise<SyncWsEvent>;
  /** Resolves with the close code once the server (or this side) closed the socket. */
  readonly closed: Promise<number>;
  close(): Promise<void>;
}

/** The ws:// URL of the realtime route of a server at `httpUrl`. */
export function wsUrl(httpUrl: string, query: Record<string, string | undefined> = {}): string {
  const url = new URL('/api/v1/sync/ws', httpUrl.replace(/^http/, 'ws'));
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/**
 * Opens the realtime socket and waits until it is open; rejects with the HTTP status when
 * the server refuses the upgrade (e.g. `401`).
 */
export async function openSocket(
  httpUrl: string,
  options: { token: string; deviceId?: string; via?: 'query' | 'header' },
): Promise<TestSocket> {
  const via = options.via ?? 'query';
  const url = wsUrl(httpUrl, {
    deviceId: options.deviceId,
    ...(via === 'query' ? { token: options.token } : {}),
  });
  const socket = new WebSocket(
    url,
    via === 'header' ? { headers: { authorization: `Bearer ${options.token}` } } : {},
  );
  const events: SyncWsEvent[] = [];
  const waiters = new Set<{
    match: (e: SyncWsEvent) => boolean;
    resolve: (e: SyncWsEvent) => void;
  }>();
  socket.on('message', (data: Buffer) => {
    const event = SyncWsEventSchema.parse(JSON.parse(data.toString('utf8')));
    events.push(event);
    for (const w of waiters) {
      if (w.match(event)) {
        waiters.delete(w);
        w.resolve(event);
      }
    }
  });
  const closed = new Promise<number>((resolve) =>
    socket.once('close', (code: number) => resolve(code)),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => {
      reject(
        Object.assign(new Error(`upgrade refused: ${res.statusCode ?? '?'}`), {
          status: res.statusCode,
        }),
      );
      socket.terminate();
    });
    socket.once('error', reject);
  });
  const close = async () => {
    if (socket.readyState === socket.CLOSED) return;
    socket.close();
    await closed;
  };
  return {
    socket,
    events,
    closed,
    next(match, ms = 10_000) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (e: SyncWsEvent) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events)}`));
        }, ms);
        waiters.add(waiter);
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
