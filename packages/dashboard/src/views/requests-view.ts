import {
  CAPTURE_KINDS,
  CAPTURE_OUTCOMES,
  DEFAULT_DASHBOARD_PER_PAGE,
  type CapturedRequestList,
  type CapturedRequestListQuery,
} from '@sync-engine/shared';
import { html, type SafeHtml } from '../html.ts';
import { pageQuery, pager, select, table, textInput } from './components.ts';
import { layout, type ViewContext } from './layout.ts';
import { REQUEST_HEADERS, requestRow } from './overview-view.ts';

/** The captured requests, newest first, with filters and pages. */
export function requestsView(
  ctx: ViewContext,
  query: CapturedRequestListQuery,
  list: CapturedRequestList,
): SafeHtml {
  const { paths } = ctx;
  const filters = {
    kind: query.kind,
    outcome: query.outcome,
    clientId: query.clientId,
    userId: query.userId,
  };
  const body = html`<h1>Captured requests</h1>
    <form class="filters" method="get" action="${paths.requests()}">
      ${select('kind', 'kind', CAPTURE_KINDS, query.kind)}
      ${select('outcome', 'outcome', CAPTURE_OUTCOMES, query.outcome)}
      ${textInput('clientId', 'client', query.clientId)}
      ${textInput('userId', 'user', query.userId)}
      <button type="submit">Filter</button>
      <a href="${paths.requests()}">clear</a>
    </form>
    ${pager(list, (page) => paths.requests(pageQuery(filters, page, list.perPage, DEFAULT_DASHBOARD_PER_PAGE)), 'requests')}
    ${table(
      REQUEST_HEADERS,
      list.data.map((r) => requestRow(paths, r)),
      'No captured request matches.',
      'requests',
    )}`;
  return layout(ctx, { title: 'Requests', section: 'requests', body });
}
