import type { CapturedRequestSummary, DashboardMetrics } from '@sync-engine/shared';
import { html, type SafeHtml } from '../html.ts';
import { healthStrip, throughputChart } from './charts.ts';
import { badge, milliseconds, orDash, percentText, table, timestamp } from './components.ts';
import { layout, type ViewContext } from './layout.ts';
import type { DashboardPaths } from './paths.ts';

export const OVERVIEW_WINDOWS = ['1h', '6h', '24h', '7d'] as const;
export const REFRESH_SECONDS = 30;

export interface OverviewData {
  readonly metrics: DashboardMetrics;
  /** The latest captured requests, newest first. */
  readonly recent: readonly CapturedRequestSummary[];
  readonly refresh: boolean;
}

function card(label: string, value: string | number, sub?: string): SafeHtml {
  return html`<div class="card">
    <div class="label">${label}</div>
    <div class="value">${value}</div>
    ${sub !== undefined && html`<div class="sub">${sub}</div>`}
  </div>`;
}

/** One row of a request list (overview history and the requests page). */
export function requestRow(paths: DashboardPaths, r: CapturedRequestSummary): SafeHtml {
  return html`<tr data-capture-id="${r.id}">
    <td>${timestamp(r.startedAt)}</td>
    <td>
      <a href="${paths.request(r.id)}">${r.kind}</a
      >${r.replayOf !== null && html` <span class="badge tone-muted">replay</span>`}
    </td>
    <td class="mono">${r.userId}</td>
    <td class="mono">${orDash(r.clientId)}</td>
    <td class="num">${r.httpStatus}</td>
    <td>${badge(r.outcome)}</td>
    <td class="num">${r.mutationCount}</td>
    <td class="num">${r.conflictCount}</td>
    <td class="num">${r.failureCount}</td>
    <td class="num">${r.snapshotCount}</td>
    <td class="num">${milliseconds(r.durationMs)}</td>
  </tr>`;
}

export const REQUEST_HEADERS = [
  'started',
  'kind',
  'user',
  'client',
  'HTTP',
  'outcome',
  'mutations',
  'conflicts',
  'failures',
  'snapshots',
  'duration',
];

export function overviewView(ctx: ViewContext, data: OverviewData): SafeHtml {
  const { metrics: m, recent } = data;
  const { paths } = ctx;
  const t = m.throughput;
  const windowLinks = OVERVIEW_WINDOWS.map((w) =>
    w === m.window
      ? html`<strong>${w}</strong>`
      : html`<a href="${paths.root({ window: w === '24h' ? undefined : w })}">${w}</a>`,
  );
  const refreshLink = data.refresh
    ? html`<a href="${paths.root({ window: m.window === '24h' ? undefined : m.window })}"
        >stop auto-refresh</a
      >`
    : html`<a
        href="${paths.root({ window: m.window === '24h' ? undefined : m.window, refresh: REFRESH_SECONDS })}"
        >auto-refresh every ${REFRESH_SECONDS} s</a
      >`;

  const body = html`<h1>Sync overview</h1>
    <p class="muted">
      Window: ${windowLinks.map((l) => html`${l} `)}· generated ${timestamp(m.generatedAt)} ·
      ${refreshLink}
    </p>
    <div class="cards" data-block="totals">
      ${card('Requests', t.requests, `${t.pushRequests} push · ${t.pullRequests} pull${t.fullRequests === undefined ? '' : ` · ${t.fullRequests} full`}`)}
      ${card('Mutations', t.mutations)}
      ${card('Conflict rate', percentText(m.conflictRate), 'requests with a conflict')}
      ${card('Failure rate', percentText(m.failureRate), 'requests that failed')}
      ${card('Latency (avg)', milliseconds(m.latency.avgMs), `p50 ${milliseconds(m.latency.p50Ms)} · p95 ${milliseconds(m.latency.p95Ms)} · p99 ${milliseconds(m.latency.p99Ms)}`)}
    </div>
    <h2>Health, last 24 hours</h2>
    ${healthStrip(m.healthStrip)}
    <h2>Throughput, last 24 hours</h2>
    ${throughputChart(m.healthStrip)}
    <div class="two">
      <section>
        <h2>Top models</h2>
        ${table(
          ['model', html`<span class="num">mutations</span>`],
          m.topModels.map(
            (x) =>
              html`<tr>
                <td>${x.model}</td>
                <td class="num">${x.mutations}</td>
              </tr>`,
          ),
          'No mutations in this window.',
          'top-models',
        )}
      </section>
      <section>
        <h2>Top clients</h2>
        ${table(
          ['client', 'requests', 'mutations'],
          m.topClients.map(
            (c) =>
              html`<tr>
                <td class="mono">
                  <a href="${paths.requests({ clientId: c.clientId })}">${c.clientId}</a>
                </td>
                <td class="num">${c.requests}</td>
                <td class="num">${c.mutations}</td>
              </tr>`,
          ),
          'No client synced in this window.',
          'top-clients',
        )}
      </section>
    </div>
    <h2>Recent history</h2>
    ${table(
      REQUEST_HEADERS,
      recent.map((r) => requestRow(paths, r)),
      'Nothing captured yet.',
      'history',
    )}
    <p><a href="${paths.requests()}">All requests →</a></p>`;
  return layout(ctx, {
    title: 'Overview',
    section: 'overview',
    body,
    refreshSeconds: data.refresh ? REFRESH_SECONDS : undefined,
  });
}
