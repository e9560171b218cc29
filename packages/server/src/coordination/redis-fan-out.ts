import type { Redis } from 'ioredis';
import { dispatch, type FanOut, type FanOutListener } from './fan-out.ts';

/**
 * Fan-out through Redis pub/sub on `<prefix><channel>`: publishes on the shared client and
 * listens on a dedicated connection (a subscribed Redis connection can do nothing else),
 * which this adapter owns and closes. ioredis re-subscribes after a reconnect by itself.
 */
export class RedisFanOut<T> implements FanOut<T> {
  readonly kind = 'redis';
  private readonly listeners = new Set<FanOutListener<T>>();
  private subscriber: Redis | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;
  private readonly channel: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    channel: string,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.channel = `${prefix}${channel}`;
  }

  start(): Promise<void> {
    this.starting ??= (async () => {
      const subscriber = this.redis.duplicate();
      this.subscriber = subscriber;
      subscriber.on('error', this.onError);
      subscriber.on('message', (channel: string, text: string) => {
        if (channel !== this.channel) return;
        let message: T;
        try {
          message = JSON.parse(text) as T;
        } catch (err) {
          this.onError(err);
          return;
        }
        dispatch(this.listeners, message, this.onError);
      });
      await subscriber.subscribe(this.channel);
    })();
    return this.starting;
  }

  /**
   * Publishes; rejects when no connection at all is subscribed. Every instance subscribes at
   * start-up, so nobody listening means this instance's own subscription is down (Redis
   * just came back and it has not re-subscribed yet): the caller (the outbox) retries
   * rather than dropping the message into the void.
   */
  async publish(message: T): Promise<void> {
    if (this.closed) throw new Error('fan-out is closed');
    const receivers = await this.redis.publish(this.channel, JSON.stringify(message));
    if (receivers === 0) throw new Error(`no instance is subscribed to ${this.channel}`);
  }

  subscribe(listener: FanOutListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when both the publishing client and the subscription are up. */
  async ping(): Promise<void> {
    await this.redis.ping();
    const status = this.subscriber?.status;
    if (status !== 'ready')
      throw new Error(`the realtime subscription is ${status ?? 'not started'}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await this.starting?.catch(() => undefined);
    const subscriber = this.subscriber;
    if (subscriber === undefined) return;
    try {
      await subscriber.quit();
    } catch {
      subscriber.disconnect();
    }
  }
}
