import type { FanOut } from '../coordination/fan-out.ts';
import type { OutboxEvent, OutboxSubscriber } from '../outbox/outbox-subscriber.ts';
import {
  REALTIME_EVENT_TYPES,
  realtimeMessageOf,
  type RealtimeMessage,
} from './realtime-message.ts';

/**
 * Turns domain events into WebSocket events (the seed's websocket-event.subscriber): one
 * instance publishes each event on the fan-out, and every instance's broadcaster passes it
 * to its own sockets of that user. A failed publish (Redis down) fails the attempt, so the
 * outbox retries it.
 */
export function createRealtimeOutboxSubscriber(fanOut: FanOut<RealtimeMessage>): OutboxSubscriber {
  return {
    name: 'realtime',
    handles: (eventType) => REALTIME_EVENT_TYPES.has(eventType),
    async deliver(event: OutboxEvent) {
      const message = realtimeMessageOf(event);
      if (message !== undefined) await fanOut.publish(message);
    },
  };
}
