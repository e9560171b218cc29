export * from './capture-reader.ts';
export * from './dashboard-plugin.ts';
export * from './dashboard-session.ts';
export * from './replay-runner.ts';
export { SafeHtml, escapeHtml, html, join, raw, type HtmlValue } from './html.ts';
