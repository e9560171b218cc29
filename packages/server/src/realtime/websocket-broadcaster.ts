import type { WebSocket } from '@fastify/websocket';
import type { FastifyBaseLogger } from 'fastify';
import type { FanOut } from '../coordination/fan-out.ts';
import type { RealtimeMessage } from './realtime-message.ts';

/** Who is on the other end of a socket. */
export interface SocketClient {
  readonly userId: string;
  /** The `?deviceId=` it connected with; null when it gave none. */
  readonly deviceId: string | null;
  /** When its token expires (epoch ms); the socket is closed then. */
  readonly expiresAtMs?: number | undefined;
}

/** Close code sent when the token of an open socket expires (4000–4999: application codes). */
export const WS_CLOSE_TOKEN_EXPIRED = 4401;
/** Close code sent when the server shuts down: reconnect elsewhere or later. */
export const WS_CLOSE_GOING_AWAY = 1001;
const HEARTBEAT_MS = 30_000;
/** setTimeout cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Connection {
  readonly socket: WebSocket;
  readonly client: SocketClient;
  alive: boolean;
  expiry: NodeJS.Timeout | undefined;
}

/**
 * The sockets of this instance, by user (the seed's WebSocketBroadcaster). Invariants: a
 * socket only ever receives events of its own user; `sync:changes` skips the sockets of the
 * device that made the change; events reach it from any instance through the fan-out. A
 * socket whose token expires is closed; one that stops answering pings is dropped.
 */
export class WebSocketBroadcaster {
  private readonly byUser = new Map<string, Set<Connection>>();
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly fanOut: FanOut<RealtimeMessage>,
    private readonly log: Pick<FastifyBaseLogger, 'warn' | 'debug'>,
  ) {}

  /** Starts receiving from the fan-out; resolves once events published from now on arrive. */
  async start(): Promise<void> {
    this.unsubscribe ??= this.fanOut.subscribe((message) => this.deliverLocal(message));
    await this.fanOut.start();
    this.heartbeat ??= setInterval(() => this.pingAll(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Closes every socket (going away) and stops listening. */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const connections of this.byUser.values()) {
      for (const c of connections) c.socket.close(WS_CLOSE_GOING_AWAY, 'server shutting down');
    }
  }

  attach(socket: WebSocket, client: SocketClient): void {
    const connection: Connection = { socket, client, alive: true, expiry: undefined };
    let connections = this.byUser.get(client.userId);
    if (!connections) this.byUser.set(client.userId, (connections = new Set()));
    connections.add(connection);
    if (client.expiresAtMs !== undefined) {
      const ms = Math.min(Math.max(0, client.expiresAtMs - Date.now()), MAX_TIMER_MS);
      connection.expiry = setTimeout(
        () => socket.close(WS_CLOSE_TOKEN_EXPIRED, 'token expired'),
        ms,
      );
      connection.expiry.unref();
    }
    socket.on('pong', () => (connection.alive = true));
    socket.on('close', () => this.detach(connection));
    socket.on('error', (err) => this.log.debug({ err }, 'websocket error'));
    // Clients only listen; anything they send is ignored.
  }

  /** Sockets open on this instance (all users). */
  get size(): number {
    let n = 0;
    for (const connections of this.byUser.values()) n += connections.size;
    return n;
  }

  /** Sends a fan-out message to this instance's sockets of its user. */
  deliverLocal(message: RealtimeMessage): void {
    const connections = this.byUser.get(message.userId);
    if (!connections) return;
    const text = JSON.stringify(message.event);
    for (const c of connections) {
      if (message.exceptDeviceId !== null && c.client.deviceId === message.exceptDeviceId) continue;
      if (c.socket.readyState !== c.socket.OPEN) continue;
      c.socket.send(text, (err) => {
        if (err) this.log.debug({ err }, 'websocket send failed');
      });
    }
  }

  private detach(connection: Connection): void {
    clearTimeout(connection.expiry);
    const connections = this.byUser.get(connection.client.userId);
    connections?.delete(connection);
    if (connections?.size === 0) this.byUser.delete(connection.client.userId);
  }

  private pingAll(): void {
    for (const connections of this.byUser.values()) {
      for (const c of connections) {
        if (!c.alive) {
          c.socket.terminate();
          continue;
        }
        c.alive = false;
        c.socket.ping();
      }
    }
  }
}
