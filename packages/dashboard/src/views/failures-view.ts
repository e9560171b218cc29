import {
  DEFAULT_DASHBOARD_PER_PAGE,
  ENTITY_SYNC_ORDER,
  type DashboardFailureList,
  type DashboardFailureListQuery,
  type FailureGroups,
} from '@sync-engine/shared';
import { html, type SafeHtml } from '../html.ts';
import {
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

/** Failed changes grouped by model × client × code (systematic issues first), then each one. */
export function failuresView(
  ctx: ViewContext,
  query: DashboardFailureListQuery,
  list: DashboardFailureList,
  groups: FailureGroups,
): SafeHtml {
  const { paths } = ctx;
  const filters = { model: query.model, clientId: query.clientId, code: query.code };
  const body = html`<h1>Failures</h1>
    <h2>Groups: model × client × code</h2>
    ${table(
      ['model', 'client', 'code', 'count', 'last seen', 'latest message'],
      groups.data.map(
        (g) =>
          html`<tr>
            <td>${g.model}</td>
            <td class="mono">${orDash(g.clientId)}</td>
            <td class="mono">
              <a
                href="${paths.failures({ model: g.model, clientId: g.clientId ?? undefined, code: g.code })}"
                >${g.code}</a
              >
            </td>
            <td class="num">${g.count}</td>
            <td>${timestamp(g.lastSeenAt)}</td>
            <td>${g.sample.message}</td>
          </tr>`,
      ),
      'No failed change captured.',
      'groups',
    )}
    <h2>All failures</h2>
    <form class="filters" method="get" action="${paths.failures()}">
      ${select('model', 'model', ENTITY_SYNC_ORDER, query.model)}
      ${textInput('clientId', 'client', query.clientId)} ${textInput('code', 'code', query.code)}
      <button type="submit">Filter</button> <a href="${paths.failures()}">clear</a>
    </form>
    ${pager(list, (page) => paths.failures(pageQuery(filters, page, list.perPage, DEFAULT_DASHBOARD_PER_PAGE)), 'failures')}
    ${list.data.length === 0 ? html`<p class="muted">No failure matches.</p>` : ''}
    ${list.data.map(
      (f) =>
        html`<article class="mutation" data-failure-id="${f.id}">
          <div class="mutation-head">
            <strong>${f.model}</strong><span class="mono">${f.entityId}</span
            ><span class="badge tone-bad">${f.code}</span>
            <span class="muted"
              >client <span class="mono">${orDash(f.clientId)}</span> · user
              <span class="mono">${f.userId}</span></span
            >
            <span class="muted">${timestamp(f.createdAt)}</span>
            ${f.captureId !== null && html`<a href="${paths.request(f.captureId)}">request</a>`}
          </div>
          <p class="reason">${f.message}</p>
          ${
            f.details.length > 0 &&
            html`<ul class="details">
              ${f.details.map((d) => html`<li><span class="mono">${d.field}</span>: ${d.message}</li>`)}
            </ul>`
          }
          <h4>Payload (redacted)</h4>
          ${jsonBlock('payload', f.payload)}
        </article>`,
    )}`;
  return layout(ctx, { title: 'Failures', section: 'failures', body });
}
