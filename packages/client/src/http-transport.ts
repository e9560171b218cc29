import type { z } from 'zod';
import { ErrorEnvelopeSchema, zodIssuesToDetails } from '@sync-engine/shared';
import {
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  retryDelayMs,
  type RetryPolicy,
} from './backoff.ts';
import { SyncHttpError, SyncNetworkError, SyncProtocolError, isRetryableStatus } from './errors.ts';

/**
 * Supplies the bearer token for each request. `forceRefresh` is true after a 401: the
 * provider should fetch a new token instead of returning a cached one.
 */
export type TokenProvider = (context: {
  readonly forceRefresh: boolean;
}) => string | Promise<string>;

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportOptions {
  /** Server origin, e.g. `https://sync.example.com` (the `/api/v1` prefix is added). */
  readonly baseUrl: string;
  readonly getToken: TokenProvider;
  /** Defaults to globalThis.fetch. */
  readonly fetch?: FetchFunction;
  readonly retry?: Partial<RetryPolicy>;
  /** One request's time limit; a timeout counts as a network error (and is retried). */
  readonly requestTimeoutMs?: number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
}

export interface TransportRequest<T> {
  readonly method: 'GET' | 'POST';
  /** Path under `/api/v1`, e.g. `/sync/push`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  /** Statuses that carry a result; anything else is an error. */
  readonly okStatuses: readonly number[];
  readonly schema: z.ZodType<T>;
}

export interface TransportAnswer<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends one request of the sync protocol and validates the answer with the shared schema.
 * Transient failures are retried with the same request (a push keeps its syncOperationId,
 * which is what makes a retry safe): network errors and 5xx with jittered exponential
 * backoff, 409 and 429 no sooner than their Retry-After. A 401 fetches a fresh token once.
 */
export class SyncTransport {
  private readonly policy: RetryPolicy;
  private readonly fetchFn: FetchFunction;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => Date;
  private readonly baseUrl: string;

  constructor(private readonly options: TransportOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? (() => new Date());
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async send<T>(request: TransportRequest<T>): Promise<TransportAnswer<T>> {
    const url = this.url(request);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    let forceRefresh = false;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const token = await this.options.getToken({ forceRefresh });
      forceRefresh = false;
      let response: Response;
      try {
        response = await this.fetchFn(url, {
          method: request.method,
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body }),
          ...(this.options.requestTimeoutMs === undefined
            ? {}
            : { signal: AbortSignal.timeout(this.options.requestTimeoutMs) }),
        });
      } catch (cause) {
        if (attempt >= this.policy.maxAttempts) {
          throw new SyncNetworkError(
            `${request.method} ${request.path} got no answer after ${attempt} tries`,
            cause,
          );
        }
        await this.sleep(retryDelayMs(attempt, undefined, this.policy, this.random));
        continue;
      }

      if (request.okStatuses.includes(response.status)) {
        return {
          status: response.status,
          body: await this.parse(response, request),
          headers: response.headers,
        };
      }
      const error = await this.httpError(response);
      if (response.status === 401 && !refreshed) {
        // The token may simply have expired: one more try with a fresh one, no waiting.
        refreshed = forceRefresh = true;
        attempt--;
        continue;
      }
      if (!isRetryableStatus(response.status) || attempt >= this.policy.maxAttempts) throw error;
      await this.sleep(retryDelayMs(attempt, error.retryAfterMs, this.policy, this.random));
    }
  }

  private url(request: TransportRequest<unknown>): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(request.query ?? {}))
      if (value !== undefined) params.set(key, value);
    const query = params.toString();
    return `${this.baseUrl}/api/v1${request.path}${query === '' ? '' : `?${query}`}`;
  }

  private async parse<T>(response: Response, request: TransportRequest<T>): Promise<T> {
    let json: unknown;
    try {
      json = await response.json();
    } catch (cause) {
      throw new SyncProtocolError(
        `${request.method} ${request.path} answered ${response.status} without JSON: ${String(cause)}`,
      );
    }
    const parsed = request.schema.safeParse(json);
    if (!parsed.success) {
      throw new SyncProtocolError(
        `${request.method} ${request.path} answered ${response.status} with a body the contract does not allow`,
        zodIssuesToDetails(parsed.error.issues),
      );
    }
    return parsed.data;
  }

  private async httpError(response: Response): Promise<SyncHttpError> {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.now());
    const correlationId = response.headers.get('x-correlation-id') ?? undefined;
    let text = '';
    try {
      text = await response.text();
    } catch {
      // A body that breaks off still leaves the status to go by.
    }
    let envelope: z.infer<typeof ErrorEnvelopeSchema> | undefined;
    try {
      const parsed = ErrorEnvelopeSchema.safeParse(JSON.parse(text));
      if (parsed.success) envelope = parsed.data;
    } catch {
      // Not JSON (a proxy's error page): fall back to the status.
    }
    return new SyncHttpError({
      status: response.status,
      code: envelope?.error.code ?? `HTTP_${response.status}`,
      message: envelope?.error.message ?? (text.slice(0, 200) || response.statusText),
      ...(envelope?.error.details ? { details: envelope.error.details } : {}),
      correlationId: envelope?.error.correlationId ?? correlationId,
      retryAfterMs,
    });
  }
}
