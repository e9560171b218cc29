import { html, raw, type HtmlValue, type SafeHtml } from '../html.ts';
import type { DashboardPaths } from './paths.ts';

/** What every page needs besides its own data. */
export interface ViewContext {
  readonly paths: DashboardPaths;
  /** The CSP nonce of this response: the one inline <style> carries it. */
  readonly nonce: string;
  /** The signed-in operator; undefined on the login page. */
  readonly userId?: string | undefined;
}

export type NavSection = 'overview' | 'requests' | 'conflicts' | 'failures' | 'login' | 'error';

/** The Content-Security-Policy of every page: nothing runs, styles only with this response's nonce. */
export function pageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

// Constant, owned by the code: inserted with raw().
const STYLE = `
:root{color-scheme:light dark;--ok:#2e9d5b;--degraded:#d9a21b;--failing:#d64545;--idle:#8883;--muted:#888;--line:#8884;--accent:#4a7bd0}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0}
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;padding:.6rem 1rem;border-bottom:1px solid var(--line)}
header .brand{font-weight:700;margin-right:1rem}
header nav a{margin-right:.9rem;text-decoration:none}
header nav a.current{font-weight:700;text-decoration:underline}
header .who{margin-left:auto;display:flex;gap:.5rem;align-items:center}
main{padding:1rem;max-width:1500px}
h1{font-size:1.35rem;margin:.2rem 0 .8rem}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}h3{font-size:1rem;margin:.8rem 0 .3rem}
a{color:var(--accent)}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}
th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
th{font-weight:600;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums}
.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}.mono{word-break:break-all}
pre.json{margin:0;padding:.5rem;background:#8881;border:1px solid var(--line);border-radius:4px;max-height:26rem;overflow:auto;white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:12px;border:1px solid currentColor;white-space:nowrap}
.tone-ok{color:var(--ok)}.tone-warn{color:var(--degraded)}.tone-bad{color:var(--failing)}.tone-muted{color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.6rem;margin:.4rem 0 1rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem}
.card .label{color:var(--muted);font-size:12px}.card .value{font-size:1.45rem;font-weight:600}.card .sub{color:var(--muted);font-size:12px}
svg.chart{display:block;width:100%;height:auto;border:1px solid var(--line);border-radius:4px}
svg .ok{fill:var(--ok)}svg .degraded{fill:var(--degraded)}svg .failing{fill:var(--failing)}svg .idle{fill:var(--idle)}
svg .bar{fill:var(--accent)}svg .bar-failed{fill:var(--failing)}
.axis{display:flex;justify-content:space-between;color:var(--muted);font-size:12px;margin-bottom:.6rem}
.legend span{margin-right:.8rem}.legend i{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.25rem;vertical-align:-1px}
.legend .ok{background:var(--ok)}.legend .degraded{background:var(--degraded)}.legend .failing{background:var(--failing)}.legend .idle{background:var(--idle)}
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(24rem,1fr));gap:1rem}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.4rem 0 1rem}
dl.summary dt{color:var(--muted)}dl.summary dd{margin:0}
.mutation{border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem;margin:.7rem 0}
.mutation-head{display:flex;flex-wrap:wrap;gap:.6rem;align-items:baseline}
.states{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:.6rem;margin-top:.4rem}
.states h4{margin:.2rem 0;font-size:12px;color:var(--muted);font-weight:600}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin:.4rem 0 .8rem}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
input,select,button,textarea{font:inherit}
input[type=text],select,textarea{padding:.25rem .4rem;border:1px solid var(--line);border-radius:4px;background:transparent;color:inherit}
button{padding:.3rem .8rem;border-radius:4px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.secondary,a.button{background:transparent;color:var(--accent)}
a.button{display:inline-block;padding:.3rem .8rem;border-radius:4px;border:1px solid var(--accent);text-decoration:none}
button:disabled{opacity:.5;cursor:not-allowed}
fieldset{border:1px solid var(--line);border-radius:6px;margin:.6rem 0;padding:.6rem .8rem}
fieldset:disabled{opacity:.75}
.pager{display:flex;gap:.8rem;align-items:center;margin:.4rem 0}
.muted{color:var(--muted)}
.notice{border-left:4px solid var(--degraded);padding:.4rem .7rem;background:#8881;margin:.6rem 0}
.alert{border-left:4px solid var(--failing);padding:.4rem .7rem;background:#8881;margin:.6rem 0}
.login{max-width:34rem;margin:3rem auto}
.login textarea{width:100%;min-height:7rem}
`;

function navLink(section: NavSection, current: NavSection, label: string, href: string): SafeHtml {
  return html`<a href="${href}" class="${section === current ? 'current' : ''}">${label}</a>`;
}

/**
 * The page shell: header with navigation and the operator, the page's content, the one
 * nonce'd stylesheet. `refreshSeconds` reloads the page by a meta refresh (no script needed).
 */
export function layout(
  ctx: ViewContext,
  page: {
    title: string;
    section: NavSection;
    body: HtmlValue;
    refreshSeconds?: number | undefined;
  },
): SafeHtml {
  const { paths } = ctx;
  const signedIn = ctx.userId !== undefined;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <link rel="icon" href="data:," />
        ${page.refreshSeconds !== undefined && html`<meta http-equiv="refresh" content="${page.refreshSeconds}" />`}
        <title>${page.title} · Sync Engine dashboard</title>
        <style nonce="${ctx.nonce}">
          ${raw(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <span class="brand">Sync Engine</span>
          ${
            signedIn &&
            html`<nav>
                ${navLink('overview', page.section, 'Overview', paths.root())}
                ${navLink('requests', page.section, 'Requests', paths.requests())}
                ${navLink('conflicts', page.section, 'Conflicts', paths.conflicts())}
                ${navLink('failures', page.section, 'Failures', paths.failures())}
              </nav>
              <span class="who"
                ><span class="muted">signed in as</span> <strong>${ctx.userId}</strong>
                <form method="post" action="${paths.logout()}">
                  <button class="secondary" type="submit">Sign out</button>
                </form></span
              >`
          }
        </header>
        <main>${page.body}</main>
      </body>
    </html>`;
}
