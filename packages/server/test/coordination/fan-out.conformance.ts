import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { FanOut } from '../../src/coordination/fan-out.ts';

export interface Message {
  readonly n: number;
  readonly text: string;
  readonly nested: { readonly list: readonly (string | null)[] };
}

export interface FanOutFixture {
  /** A new instance on the shared channel (for the in-process adapter: a lone instance). */
  open(): Promise<FanOut<Message>>;
  /** For transports between processes: an instance on another channel, which must hear nothing. */
  openIsolated?(): Promise<FanOut<Message>>;
  close(): Promise<void>;
}

const message = (n: number): Message => ({
  n,
  text: `m${n} ✓ "quoted"`,
  nested: { list: ['a', null] },
});

/** Resolves with the first `count` messages a listener gets, or rejects after `ms`. */
function collect(fanOut: FanOut<Message>, count: number, ms = 3000): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const got: Message[] = [];
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`got ${got.length} of ${count} messages: ${JSON.stringify(got)}`));
    }, ms);
    const stop = fanOut.subscribe((m) => {
      got.push(m);
      if (got.length === count) {
        clearTimeout(timer);
        stop();
        resolve(got);
      }
    });
  });
}

/** The FanOut port's contract (see fan-out.ts), run once per adapter. */
export function describeFanOutConformance(
  name: string,
  options: { readonly multiInstance: boolean },
  setup: () => Promise<FanOutFixture>,
): void {
  describe(`FanOut conformance: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });
    async function fixture(): Promise<FanOutFixture> {
      const f = await setup();
      cleanups.push(() => f.close());
      return f;
    }
    async function started(f: FanOutFixture): Promise<FanOut<Message>> {
      const fanOut = await f.open();
      cleanups.push(() => fanOut.close());
      await fanOut.start();
      return fanOut;
    }

    it("delivers a published message to every listener, the publisher's own included, as equal JSON", async () => {
      const fanOut = await started(await fixture());
      const [a, b] = [collect(fanOut, 1), collect(fanOut, 1)];
      await fanOut.publish(message(1));
      expect(await a).toEqual([message(1)]);
      expect(await b).toEqual([message(1)]);
      await expect(fanOut.ping()).resolves.toBeUndefined();
    });

    it("keeps one publisher's order", async () => {
      const fanOut = await started(await fixture());
      const got = collect(fanOut, 20);
      for (let i = 0; i < 20; i++) await fanOut.publish(message(i));
      expect((await got).map((m) => m.n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('stops delivering to a listener once it unsubscribed', async () => {
      const fanOut = await started(await fixture());
      const seen: number[] = [];
      const stop = fanOut.subscribe((m) => seen.push(m.n));
      const first = collect(fanOut, 1);
      await fanOut.publish(message(1));
      await first;
      stop();
      const second = collect(fanOut, 1);
      await fanOut.publish(message(2));
      await second;
      expect(seen).toEqual([1]);
    });

    it('still delivers to the other listeners when one throws', async () => {
      const fanOut = await started(await fixture());
      fanOut.subscribe(() => {
        throw new Error('listener failure');
      });
      const got = collect(fanOut, 1);
      await fanOut.publish(message(7));
      expect(await got).toEqual([message(7)]);
    });

    it('refuses to publish once closed', async () => {
      const fanOut = await (await fixture()).open();
      await fanOut.start();
      await fanOut.close();
      await fanOut.close();
      await expect(fanOut.publish(message(1))).rejects.toThrow();
    });

    it.runIf(options.multiInstance)(
      'reaches the listeners of every instance on the channel, and none on another channel',
      async () => {
        const f = await fixture();
        if (f.openIsolated === undefined)
          throw new Error('a multi-instance fixture needs openIsolated');
        const [a, b] = [await started(f), await started(f)];
        const isolated = await f.openIsolated();
        cleanups.push(() => isolated.close());
        await isolated.start();
        const stray: Message[] = [];
        isolated.subscribe((m) => stray.push(m));
        const [onA, onB] = [collect(a, 2), collect(b, 2)];
        await a.publish(message(1));
        await b.publish(message(2));
        expect((await onA).map((m) => m.n).sort()).toEqual([1, 2]);
        expect((await onB).map((m) => m.n).sort()).toEqual([1, 2]);
        await sleep(100);
        expect(stray).toEqual([]);
      },
    );
  });
}
