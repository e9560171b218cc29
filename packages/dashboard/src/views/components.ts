import type { FieldDiff } from '@sync-engine/shared';
import { html, type HtmlValue, type SafeHtml } from '../html.ts';
import type { Query } from './paths.ts';

/** A value as indented JSON text (what the payload blocks show); never markup. */
export function prettyJson(value: unknown): string {
  if (value === undefined) return '—';
  try {
    return JSON.stringify(value, null, 2) ?? '—';
  } catch {
    return '(not JSON)';
  }
}

/**
 * A JSON block. `kind` names what it holds (payload, before, after, headers…) as a class and
 * a data-block attribute the browser tests find it by; it is always one of our own words.
 */
export function jsonBlock(kind: string, value: unknown): SafeHtml {
  return html`<pre class="json ${kind}" data-block="${kind}">${prettyJson(value)}</pre>`;
}

/** A one-line value for a table cell: strings as they are, everything else as compact JSON. */
export function inlineValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '—';
  const text = JSON.stringify(value) ?? '—';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** `2024-05-01 12:34:56 UTC` in a <time> element carrying the ISO value. */
export function timestamp(iso: string | null | undefined): SafeHtml {
  if (iso === null || iso === undefined) return html`<span class="muted">—</span>`;
  const shown = iso.length >= 19 ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : iso;
  return html`<time datetime="${iso}">${shown}</time>`;
}

export function milliseconds(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(ms >= 10 ? 1 : 2)} ms`;
}

export function percentText(value: number): string {
  return `${value.toFixed(value >= 10 || value === 0 ? 1 : 2)} %`;
}

type Tone = 'ok' | 'warn' | 'bad' | 'muted';

const TONES: Readonly<Record<string, Tone>> = {
  success: 'ok',
  applied: 'ok',
  ok: 'ok',
  RESOLVED: 'ok',
  partial: 'warn',
  conflict: 'warn',
  degraded: 'warn',
  PENDING: 'warn',
  failed: 'bad',
  rejected: 'bad',
  failing: 'bad',
  skipped: 'muted',
  idle: 'muted',
};

/** A coloured pill for an outcome or status word. */
export function badge(word: string): SafeHtml {
  return html`<span class="badge tone-${TONES[word] ?? 'muted'}">${word}</span>`;
}

/** A cell that shows `text`, or a muted dash when there is none. */
export function orDash(text: string | number | null | undefined): HtmlValue {
  return text === null || text === undefined || text === ''
    ? html`<span class="muted">—</span>`
    : text;
}

/** The field-level diff of one change as a table (values as compact JSON text). */
export function diffTable(diff: readonly FieldDiff[]): SafeHtml {
  if (diff.length === 0) return html`<p class="muted">No field changed.</p>`;
  return html`<table class="diff" data-block="diff">
    <thead>
      <tr>
        <th>field</th>
        <th>before</th>
        <th>after</th>
      </tr>
    </thead>
    <tbody>
      ${diff.map(
        (d) =>
          html`<tr>
            <td class="mono">${d.field}</td>
            <td class="mono">${inlineValue(d.before)}</td>
            <td class="mono">${inlineValue(d.after)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/**
 * Previous / next links of a paginated list; `hrefFor(page)` builds the link of a page with
 * the list's filters kept.
 */
export function pager(
  list: { page: number; perPage: number; total: number },
  hrefFor: (page: number) => string,
  label = 'items',
): SafeHtml {
  const pages = Math.max(1, Math.ceil(list.total / list.perPage));
  const prev =
    list.page > 1
      ? html`<a rel="prev" href="${hrefFor(list.page - 1)}">← Previous</a>`
      : html`<span class="muted">← Previous</span>`;
  const next =
    list.page < pages
      ? html`<a rel="next" href="${hrefFor(list.page + 1)}">Next →</a>`
      : html`<span class="muted">Next →</span>`;
  return html`<div class="pager" data-block="pager">
    ${prev}<span>Page ${list.page} of ${pages} · ${list.total} ${label}</span>${next}
  </div>`;
}

/** Page links keep the filters in force; `page` is replaced. */
export function pageQuery(
  filters: Query,
  page: number,
  perPage: number,
  defaultPerPage: number,
): Query {
  return {
    ...filters,
    page: page === 1 ? undefined : page,
    perPage: perPage === defaultPerPage ? undefined : perPage,
  };
}

/** A <select> of `options` (plus "any"), `current` selected. */
export function select(
  name: string,
  label: string,
  options: readonly string[],
  current: string | undefined,
): SafeHtml {
  return html`<label
    >${label}<select name="${name}">
      <option value="">any</option>
      ${options.map((o) => html`<option value="${o}" ${o === current ? html`selected` : ''}>${o}</option>`)}
    </select></label
  >`;
}

/** A text filter input. */
export function textInput(name: string, label: string, current: string | undefined): SafeHtml {
  return html`<label
    >${label}<input type="text" name="${name}" value="${current ?? ''}" maxlength="128"
  /></label>`;
}

/** A table with a header row and one row per item, or `empty` when there are none. */
export function table(
  headers: readonly HtmlValue[],
  rows: readonly SafeHtml[],
  empty: string,
  testId?: string,
): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table data-block="${testId ?? ''}">
    <thead>
      <tr>
        ${headers.map((h) => html`<th>${h}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}
