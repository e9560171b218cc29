import { dispatch, type FanOut, type FanOutListener } from './fan-out.ts';

/**
 * Fan-out within one process (no REDIS_URL). Messages are cloned through JSON so listeners
 * see exactly what the Redis adapter would deliver, and never share objects with the
 * publisher.
 */
export class InProcessFanOut<T> implements FanOut<T> {
  readonly kind = 'in-process';
  private readonly listeners = new Set<FanOutListener<T>>();
  private closed = false;

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  async start(): Promise<void> {}

  async publish(message: T): Promise<void> {
    if (this.closed) throw new Error('fan-out is closed');
    const copy = JSON.parse(JSON.stringify(message)) as T;
    // Asynchronous like a real transport: a publisher never runs listeners on its own stack.
    queueMicrotask(() => dispatch(this.listeners, copy, this.onListenerError));
  }

  subscribe(listener: FanOutListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('fan-out is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}
