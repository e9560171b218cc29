import {
  isPlainObject,
  type CapturedMutation,
  type CapturedMutationList,
  type CapturedRequestDetail,
} from '@sync-engine/shared';
import { html, type SafeHtml } from '../html.ts';
import type { ReplayAvailability } from '../replay-runner.ts';
import {
  badge,
  diffTable,
  jsonBlock,
  milliseconds,
  orDash,
  pager,
  table,
  timestamp,
} from './components.ts';
import { layout, type ViewContext } from './layout.ts';
import { REQUEST_HEADERS, requestRow } from './overview-view.ts';
import type { DashboardPaths } from './paths.ts';
import { replayControls } from './replay-views.ts';

/** Mutations shown per page of a request's detail (the API's default is larger). */
export const MUTATIONS_PER_PAGE = 20;

export interface RequestDetailData {
  readonly detail: CapturedRequestDetail;
  readonly mutations: CapturedMutationList;
  readonly availability: ReplayAvailability;
  readonly liveEnabled: boolean;
}

/** A stored `{method, url, headers, body}` / `{status, headers, body}` split into its parts. */
function exchangePart(value: unknown): {
  line: string | undefined;
  headers: unknown;
  body: unknown;
} {
  if (!isPlainObject(value)) return { line: undefined, headers: undefined, body: value };
  const { method, url, status, headers, body } = value;
  const line =
    typeof method === 'string' && typeof url === 'string'
      ? `${method} ${url}`
      : typeof status === 'number'
        ? `HTTP ${status}`
        : undefined;
  return { line, headers, body };
}

function exchange(title: string, kind: 'request' | 'response', value: unknown): SafeHtml {
  const part = exchangePart(value);
  return html`<section>
    <h2>${title}</h2>
    ${part.line !== undefined && html`<p class="mono">${part.line}</p>`}
    <h3>Headers</h3>
    ${jsonBlock(`${kind}-headers`, part.headers ?? {})}
    <h3>Body</h3>
    ${jsonBlock(`${kind}-body`, part.body ?? null)}
  </section>`;
}

function mutationCard(m: CapturedMutation): SafeHtml {
  const entity = m.entityId ?? m.clientEntityId ?? '';
  return html`<article class="mutation" data-index="${m.index}">
    <div class="mutation-head">
      <strong>#${m.index}</strong>
      <span>${m.changeType} ${m.entityType}</span>
      <span class="mono">${entity}</span>
      ${m.clientEntityId !== undefined && m.clientEntityId !== m.entityId && html`<span class="muted">sent as <span class="mono">${m.clientEntityId}</span></span>`}
      ${badge(m.outcome)}
      <span class="muted">requestId <span class="mono">${m.requestId}</span></span>
      <span class="muted">${milliseconds(m.durationMs)}</span>
    </div>
    ${m.reason !== null && html`<p class="reason">${m.reason}</p>`}
    <div class="states">
      <div>
        <h4>Payload (as sent, redacted)</h4>
        ${jsonBlock('payload', m.payload)}
      </div>
      <div>
        <h4>Server state before</h4>
        ${jsonBlock('before', m.before)}
      </div>
      <div>
        <h4>Server state after</h4>
        ${jsonBlock('after', m.after)}
      </div>
    </div>
    <h4>Field diff</h4>
    ${diffTable(m.diff)}
    ${
      m.outcome === 'rejected' &&
      m.reasonDetail !== undefined &&
      m.reasonDetail !== null &&
      html`<h4>Error</h4>
        ${jsonBlock('reason-detail', m.reasonDetail)}`
    }
  </article>`;
}

function timing(d: CapturedRequestDetail, list: CapturedMutationList): SafeHtml {
  const timed = list.data.filter((m) => m.durationMs !== null);
  const slowest = timed.reduce<CapturedMutation | undefined>(
    (a, m) => (a === undefined || (m.durationMs ?? 0) > (a.durationMs ?? 0) ? m : a),
    undefined,
  );
  const decided = timed.reduce((sum, m) => sum + (m.durationMs ?? 0), 0);
  return html`<p data-block="timing">
    The request took <strong>${milliseconds(d.durationMs)}</strong>${
      timed.length > 0 &&
      html`; the ${timed.length} mutations on this page were decided in
      ${milliseconds(decided)}${
        slowest !== undefined &&
        html` (slowest: #${slowest.index}, ${milliseconds(slowest.durationMs)})`
      }`
    }.
  </p>`;
}

function summary(paths: DashboardPaths, d: CapturedRequestDetail): SafeHtml {
  return html`<dl class="summary" data-block="summary">
    <dt>capture id</dt>
    <dd class="mono">${d.id}</dd>
    <dt>kind</dt>
    <dd>${d.kind}</dd>
    <dt>user</dt>
    <dd class="mono"><a href="${paths.requests({ userId: d.userId })}">${d.userId}</a></dd>
    <dt>client</dt>
    <dd class="mono">
      ${d.clientId === null ? orDash(null) : html`<a href="${paths.requests({ clientId: d.clientId })}">${d.clientId}</a>`}
    </dd>
    <dt>started</dt>
    <dd>${timestamp(d.startedAt)}</dd>
    <dt>duration</dt>
    <dd>${milliseconds(d.durationMs)}</dd>
    <dt>HTTP status</dt>
    <dd>
      ${d.httpStatus}${d.errorCode !== null && d.errorCode !== undefined && html` <span class="mono">${d.errorCode}</span>`}
    </dd>
    <dt>outcome</dt>
    <dd>${badge(d.outcome)}</dd>
    <dt>mutations</dt>
    <dd>
      ${d.mutationCount} · ${d.conflictCount} conflicts · ${d.failureCount} failed ·
      ${d.snapshotCount} snapshots pulled
    </dd>
    <dt>syncOperationId</dt>
    <dd class="mono">${orDash(d.syncOperationId)}</dd>
    <dt>correlation id</dt>
    <dd class="mono">${orDash(d.correlationId)}</dd>
    ${
      d.replayOf !== null &&
      html`<dt>replay of</dt>
        <dd class="mono" data-block="replay-of">
          <a href="${paths.request(d.replayOf)}">${d.replayOf}</a>
        </dd>`
    }
  </dl>`;
}

/** One captured request: summary, timing, replay tools, payloads and its paginated mutations. */
export function requestDetailView(ctx: ViewContext, data: RequestDetailData): SafeHtml {
  const { paths } = ctx;
  const { detail: d, mutations } = data;
  const pageHref = (page: number) =>
    `${paths.request(d.id, { page: page === 1 ? undefined : page, perPage: mutations.perPage === MUTATIONS_PER_PAGE ? undefined : mutations.perPage })}#mutations`;
  const body = html`<h1>
      ${d.replayOf === null ? '' : 'Replayed '}${d.kind} request ${badge(d.outcome)}
    </h1>
    ${summary(paths, d)}
    <h2>Timing</h2>
    ${timing(d, mutations)}
    ${d.kind !== 'pull' && replayControls(paths, d, data.availability, data.liveEnabled)}
    <section id="replays">
      <h2>Replays of this request</h2>
      ${table(
        REQUEST_HEADERS,
        d.replays.map((r) => requestRow(paths, r)),
        'Not replayed.',
        'replays',
      )}
    </section>
    <div class="two">
      ${exchange('Request (redacted)', 'request', d.request)}
      ${exchange('Response (redacted)', 'response', d.response)}
    </div>
    <section id="mutations">
      <h2>Mutations</h2>
      ${
        mutations.total === 0
          ? html`<p class="muted">This request carried no mutations.</p>`
          : html`${pager(mutations, pageHref, 'mutations')} ${mutations.data.map(mutationCard)}
            ${pager(mutations, pageHref, 'mutations')}`
      }
    </section>`;
  return layout(ctx, { title: `Request ${d.id}`, section: 'requests', body });
}
