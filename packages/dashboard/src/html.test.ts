import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SafeHtml, escapeHtml, html, join, raw } from './html.ts';

const HOSTILE = [
  '<img src=x onerror="window.__xss=1">',
  '<script>window.__xss=2</script>',
  '"><svg onload=alert(1)>',
  "' onmouseover='alert(1)",
  '`${alert(1)}`',
  '</textarea><script>alert(1)</script>',
  '&lt;already&gt; &amp; escaped',
  '<!-- comment --><![CDATA[x]]>',
  'javascript:alert(1)',
];

/** The text a browser would show for escaped markup (the inverse of escapeHtml). */
function unescape(markup: string): string {
  return markup
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&amp;/g, '&');
}

describe('html tagged template', () => {
  it('escapes every interpolated string so hostile text stays text', () => {
    for (const text of HOSTILE) {
      const out = html`<p>${text}</p>`.toString();
      expect(out.slice(3, -4)).not.toMatch(/[<>"'`]/);
      expect(unescape(out.slice(3, -4))).toBe(text);
    }
  });

  it('keeps a double-quoted attribute closed whatever the value holds', () => {
    const out = html`<a title="${'" onclick="alert(1)'}">x</a>`.toString();
    expect(out).toBe('<a title="&quot; onclick=&quot;alert(1)">x</a>');
  });

  it('escapes ampersands again rather than trusting text that looks escaped', () => {
    expect(html`${'&lt;b&gt;'}`.toString()).toBe('&amp;lt;b&amp;gt;');
  });

  it('inserts nested templates and arrays of them as markup, their values still escaped', () => {
    const rows = ['<b>', 'ok'].map((v) => html`<li>${v}</li>`);
    // prettier-ignore
    expect(html`<ul>${rows}</ul>`.toString()).toBe('<ul><li>&lt;b&gt;</li><li>ok</li></ul>');
  });

  it('renders null, undefined and false as nothing, numbers and true as text', () => {
    expect(html`[${null}${undefined}${false}|${0}|${true}|${12n}]`.toString()).toBe('[|0|true|12]');
  });

  it('trusts only raw() and templates: a look-alike object is escaped as text', () => {
    expect(html`${raw('<br>')}`.toString()).toBe('<br>');
    const forged = { toString: () => '<img src=x onerror=alert(1)>' } as unknown as string;
    expect(html`${forged}`.toString()).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(raw('<i>')).toBeInstanceOf(SafeHtml);
    expect({ markup: '<i>' }).not.toBeInstanceOf(SafeHtml);
  });

  it('joins items with an escaped or safe separator', () => {
    expect(join(['<a>', html`<b>x</b>`], ', ').toString()).toBe('&lt;a&gt;, <b>x</b>');
    expect(join(['a', 'b'], raw('<br>')).toString()).toBe('a<br>b');
  });

  it('property: any string interpolated yields no markup and reads back as itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const inner = html`<pre>${text}</pre>`.toString().slice(5, -6);
        expect(inner).not.toMatch(/[<>"'`]/);
        expect(unescape(inner)).toBe(text);
        expect(escapeHtml(text)).toBe(inner);
      }),
    );
  });
});
