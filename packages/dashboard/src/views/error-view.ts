import { html, type SafeHtml } from '../html.ts';
import { layout, type ViewContext } from './layout.ts';

/** An error as a page: the status, the error's code and its (safe) message. */
export function errorView(
  ctx: ViewContext,
  status: number,
  code: string,
  message: string,
): SafeHtml {
  const body = html`<h1>${status} ${code}</h1>
    <p class="alert" role="alert" data-block="error">${message}</p>
    ${
      status === 403 && code === 'FORBIDDEN'
        ? html`<p>
            The dashboard is for operators:
            <a href="${ctx.paths.login()}">sign in with an admin token</a>.
          </p>`
        : html`<p><a href="${ctx.paths.root()}">Back to the overview</a></p>`
    }`;
  return layout(ctx, { title: `${status} ${code}`, section: 'error', body });
}
