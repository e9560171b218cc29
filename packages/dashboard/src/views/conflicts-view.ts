import {
  DEFAULT_DASHBOARD_PER_PAGE,
  ENTITY_SYNC_ORDER,
  type ConflictPatterns,
  type DashboardConflictList,
  type DashboardConflictListQuery,
} from '@sync-engine/shared';
import { html, type SafeHtml } from '../html.ts';
import {
  badge,
  jsonBlock,
  orDash,
  pageQuery,
  pager,
  select,
  table,
  textInput,
  timestamp,
} from './components.ts';
import { layout, type ViewContext } from './layout.ts';

/** Every recorded conflict (live status) and how often each model and client conflicts. */
export function conflictsView(
  ctx: ViewContext,
  query: DashboardConflictListQuery,
  list: DashboardConflictList,
  patterns: ConflictPatterns,
): SafeHtml {
  const { paths } = ctx;
  const filters = { model: query.model, clientId: query.clientId };
  const body = html`<h1>Conflicts</h1>
    <h2>Patterns per model and client</h2>
    ${table(
      ['model', 'client', 'conflicts', 'last seen'],
      patterns.data.map(
        (p) =>
          html`<tr>
            <td>
              <a href="${paths.conflicts({ model: p.model, clientId: p.clientId ?? undefined })}"
                >${p.model}</a
              >
            </td>
            <td class="mono">${orDash(p.clientId)}</td>
            <td class="num">${p.count}</td>
            <td>${timestamp(p.lastSeenAt)}</td>
          </tr>`,
      ),
      'No conflict recorded.',
      'patterns',
    )}
    <h2>All conflicts</h2>
    <form class="filters" method="get" action="${paths.conflicts()}">
      ${select('model', 'model', ENTITY_SYNC_ORDER, query.model)}
      ${textInput('clientId', 'client', query.clientId)}
      <button type="submit">Filter</button> <a href="${paths.conflicts()}">clear</a>
    </form>
    ${pager(list, (page) => paths.conflicts(pageQuery(filters, page, list.perPage, DEFAULT_DASHBOARD_PER_PAGE)), 'conflicts')}
    ${list.data.length === 0 ? html`<p class="muted">No conflict matches.</p>` : ''}
    ${list.data.map(
      (c) =>
        html`<article class="mutation" data-conflict-id="${c.conflictId}">
          <div class="mutation-head">
            <strong>${c.model}</strong><span class="mono">${c.entityId}</span>${badge(c.status)}
            <span>${c.strategy} → ${c.outcome}</span>
            <span class="muted"
              >client <span class="mono">${orDash(c.clientId)}</span> · user
              <span class="mono">${c.userId}</span></span
            >
            <span class="muted">${timestamp(c.createdAt)}</span>
            ${c.captureId !== null && html`<a href="${paths.request(c.captureId)}">request</a>`}
          </div>
          ${c.reason !== null && html`<p class="reason">${c.reason}</p>`}
          <div class="states">
            <div>
              <h4>Client payload</h4>
              ${jsonBlock('payload', c.clientPayload)}
            </div>
            <div>
              <h4>Server state at the conflict</h4>
              ${jsonBlock('server-state', c.serverState)}
            </div>
          </div>
        </article>`,
    )}`;
  return layout(ctx, { title: 'Conflicts', section: 'conflicts', body });
}
