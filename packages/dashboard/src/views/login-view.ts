import { html, type SafeHtml } from '../html.ts';
import { layout, type ViewContext } from './layout.ts';

export interface LoginData {
  /** The dashboard page to open after signing in. */
  readonly next: string;
  /** Why the last attempt failed. */
  readonly error?: string | undefined;
}

/** Paste an admin token (`npx sync-engine token --user <id> --admin`) to open a session. */
export function loginView(ctx: ViewContext, data: LoginData): SafeHtml {
  const body = html`<div class="login">
    <h1>Sign in to the dashboard</h1>
    ${data.error !== undefined && html`<p class="alert" role="alert" data-block="login-error">${data.error}</p>`}
    <form method="post" action="${ctx.paths.login()}">
      <input type="hidden" name="next" value="${data.next}" />
      <p><label for="token">Admin token</label></p>
      <p>
        <textarea
          id="token"
          name="token"
          required
          autocomplete="off"
          spellcheck="false"
          placeholder="eyJhbGciOi…"
        ></textarea>
      </p>
      <p><button type="submit">Sign in</button></p>
    </form>
    <p class="muted">
      A bearer token with <code>role: "admin"</code>, e.g. from
      <code>npx sync-engine token --user ops --admin</code>. Signing in sets a session cookie for
      this dashboard only; the token itself is not stored.
    </p>
  </div>`;
  return layout(ctx, { title: 'Sign in', section: 'login', body });
}
