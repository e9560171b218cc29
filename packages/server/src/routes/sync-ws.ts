import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { optionalQueryId } from '@sync-engine/shared';
import { z } from 'zod';
import { principalOf } from '../http/authenticate.ts';
import type { WebSocketBroadcaster } from '../realtime/websocket-broadcaster.ts';

const WsQuerySchema = z.object({ deviceId: optionalQueryId() });

/** Largest message a client may send; clients only listen, so anything big is abuse. */
const MAX_CLIENT_PAYLOAD_BYTES = 4096;
/** A refused upgrade's socket gets this long to flush the answer before it is destroyed. */
const REFUSED_UPGRADE_LINGER_MS = 1000;

/**
 * `GET /sync/ws`: a WebSocket of sync events for the caller's user. The token (header or
 * `?token=`) is checked by the auth hook before the upgrade, so a bad or expired one gets
 * `401` and no socket; an open socket is closed when its token expires.
 *
 * Registered unencapsulated (fastify-plugin): the upgrade listener sees every upgrade
 * request, so the hook that closes refused upgrades must see every route too.
 */
async function realtimePlugin(
  app: FastifyInstance,
  opts: { broadcaster: WebSocketBroadcaster },
): Promise<void> {
  await app.register(websocket, { options: { maxPayload: MAX_CLIENT_PAYLOAD_BYTES } });
  // An upgrade request answered with a plain HTTP response (401 from the auth hook, 404, …)
  // leaves a socket the HTTP server no longer manages: close it, or it lingers and keeps
  // the server from shutting down.
  app.addHook('onResponse', async (request) => {
    // Node sets `upgrade` on a request it handed to the 'upgrade' listeners (untyped in @types/node 20).
    if ((request.raw as { upgrade?: boolean }).upgrade !== true) return;
    const socket = request.raw.socket;
    socket.end();
    setTimeout(() => socket.destroy(), REFUSED_UPGRADE_LINGER_MS).unref();
  });
  app.get('/api/v1/sync/ws', { websocket: true }, (socket, request) => {
    const { userId, expiresAtMs } = principalOf(request);
    const parsed = WsQuerySchema.safeParse(request.query);
    if (!parsed.success) {
      socket.close(1008, 'invalid deviceId');
      return;
    }
    opts.broadcaster.attach(socket, {
      userId,
      deviceId: parsed.data.deviceId ?? null,
      expiresAtMs,
    });
  });
}

export const realtimeRoutes = fp(realtimePlugin, { name: 'sync-realtime' });
