import type { CapturedRequestDetail, ReplayPreview } from '@sync-engine/shared';
import { html, type SafeHtml } from '../html.ts';
import type { ReplayAvailability } from '../replay-runner.ts';
import { badge, diffTable, jsonBlock, orDash } from './components.ts';
import { layout, type ViewContext } from './layout.ts';
import type { DashboardPaths } from './paths.ts';

/**
 * The replay tools of a capture: a preview (safe, writes nothing) and the live replay form,
 * which needs an explicit confirmation and is shown disabled, with the reason, when live
 * replay is off or the capture cannot be replayed.
 */
export function replayControls(
  paths: DashboardPaths,
  d: CapturedRequestDetail,
  availability: ReplayAvailability,
  liveEnabled: boolean,
): SafeHtml {
  const blocked = !availability.replayable;
  const liveOff = !liveEnabled;
  return html`<section id="replay" data-block="replay">
    <h2>Replay</h2>
    ${blocked && html`<p class="notice" data-block="replay-unavailable">${availability.reason}</p>`}
    <p>
      ${
        blocked
          ? html`<button type="button" class="secondary" disabled>Preview replay</button>`
          : html`<a class="button" href="${paths.preview(d.id)}">Preview replay</a>`
      }
      <span class="muted"
        >what each mutation would do against the current data; writes nothing</span
      >
    </p>
    <form method="post" action="${paths.replay(d.id)}">
      <fieldset ${(blocked || liveOff) && html`disabled`} data-block="live-replay">
        <legend>Live replay</legend>
        ${
          liveOff &&
          html`<p class="notice" data-block="replay-disabled">
            Live replay is off. It is enabled only when the server runs with
            <code>DASHBOARD_REPLAY_LIVE=true</code>.
          </p>`
        }
        <p>
          Pushes a copy of this request again, as user <span class="mono">${d.userId}</span> on
          device <span class="mono">${orDash(d.clientId)}</span>, with a new syncOperationId and new
          requestIds. The changes are applied to live data; the original capture is kept as it is
          and the copy is captured as its replay.
        </p>
        <label
          ><input type="checkbox" name="confirm" value="true" required /> I understand that this
          applies ${d.mutationCount} changes to live data again</label
        >
        <p><button type="submit">Replay now</button></p>
      </fieldset>
    </form>
  </section>`;
}

/** The outcome a preview predicts for each captured mutation. */
export function replayPreviewView(
  ctx: ViewContext,
  d: CapturedRequestDetail,
  preview: ReplayPreview,
): SafeHtml {
  const { paths } = ctx;
  const counts = new Map<string, number>();
  for (const m of preview.mutations) counts.set(m.outcome, (counts.get(m.outcome) ?? 0) + 1);
  const body = html`<h1>Replay preview</h1>
    <p>
      Of <a href="${paths.request(d.id)}" class="mono">${d.id}</a> (${d.kind}, user
      <span class="mono">${d.userId}</span>, device
      <span class="mono">${orDash(d.clientId)}</span>), against the data as it is now. Nothing was
      written.
    </p>
    <p data-block="preview-counts">
      ${[...counts].map(([outcome, n]) => html`${badge(outcome)} ${n} `)}
    </p>
    <table data-block="preview">
      <thead>
        <tr>
          <th>#</th>
          <th>change</th>
          <th>entity</th>
          <th>would be</th>
          <th>why</th>
        </tr>
      </thead>
      <tbody>
        ${preview.mutations.map(
          (m) =>
            html`<tr data-index="${m.index}">
                <td>${m.index}</td>
                <td>${m.changeType ?? ''} ${m.entityType ?? ''}</td>
                <td class="mono">${orDash(m.entityId)}</td>
                <td>${badge(m.outcome)}</td>
                <td>${orDash(m.reason)}</td>
              </tr>
              <tr>
                <td></td>
                <td colspan="4">
                  <div class="states">
                    <div>
                      <h4>Before</h4>
                      ${jsonBlock('before', m.before)}
                    </div>
                    <div>
                      <h4>After</h4>
                      ${jsonBlock('after', m.after)}
                    </div>
                    <div>
                      <h4>Field diff</h4>
                      ${diffTable(m.diff)}
                    </div>
                  </div>
                </td>
              </tr>`,
        )}
      </tbody>
    </table>
    <p><a href="${paths.request(d.id)}#replay">← Back to the request</a></p>`;
  return layout(ctx, { title: 'Replay preview', section: 'requests', body });
}
