/*
 * Escape-by-default HTML. Every page is built with the `html` tag: each interpolated value is
 * escaped unless it is SafeHtml — the result of another `html` template or of an explicit
 * `raw()`. Captured traffic is hostile input (a client can push `<script>` as a product
 * name), so markup is something a value has to be granted, never something it can claim.
 */

/** Markup that is safe to insert as it is. Only `html` and `raw` make one. */
export class SafeHtml {
  // A private field makes the class nominal: `{ value: '<b>' }` is not SafeHtml.
  readonly #markup: string;

  private constructor(markup: string) {
    this.#markup = markup;
  }

  /** @internal the one door in; use `html` or `raw`. */
  static trust(markup: string): SafeHtml {
    return new SafeHtml(markup);
  }

  toString(): string {
    return this.#markup;
  }
}

/** What a template accepts: text (escaped), safe markup, or lists of them; nothing renders as ''. */
export type HtmlValue =
  SafeHtml | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Text as HTML that displays it literally, in element content and in quoted attribute
 * values alike (quotes and backticks are escaped too).
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * The tag every page uses: `html\`<td>${name}</td>\`` escapes `name`. Nested templates and
 * arrays of them are inserted as markup; `null`, `undefined` and `false` render nothing (so
 * `${cond && html\`…\`}` works). Values go in element content or in double-quoted
 * attributes — never in unquoted attributes, URLs built from captured text, `<script>` or
 * `<style>`.
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return SafeHtml.trust(out);
}

/** Markup inserted unescaped: only for constant strings the code itself owns. */
export function raw(markup: string): SafeHtml {
  return SafeHtml.trust(markup);
}

/** Items joined by `separator` (escaped unless SafeHtml). */
export function join(items: readonly HtmlValue[], separator: HtmlValue = ''): SafeHtml {
  return SafeHtml.trust(items.map(render).join(render(separator)));
}
