import type { HealthStripBucket } from '@sync-engine/shared';
import { html, type SafeHtml } from '../html.ts';

/*
 * Charts drawn on the server as inline SVG: no script, no external asset, and every number
 * in them comes from our own aggregates (the tooltips are escaped like any other text).
 */

const BAR = 4;
const GAP = 1;

function hhmm(iso: string): string {
  return iso.slice(11, 16);
}

function bucketTitle(b: HealthStripBucket): string {
  return `${hhmm(b.start)}–${hhmm(b.end)} UTC: ${b.requests} requests, ${b.failures} failed, ${b.conflicts} with conflicts (${b.status})`;
}

/** The 24 h health strip: one coloured cell per five-minute bucket, oldest on the left. */
export function healthStrip(buckets: readonly HealthStripBucket[]): SafeHtml {
  const width = buckets.length * BAR;
  return html`<svg
      class="chart health-strip"
      data-block="health-strip"
      role="img"
      viewBox="0 0 ${width} 26"
      preserveAspectRatio="none"
      aria-label="Health of the last 24 hours in ${buckets.length} five-minute buckets"
    >
      ${buckets.map(
        (b, i) =>
          html`<rect
            class="${b.status}"
            data-status="${b.status}"
            x="${i * BAR}"
            y="0"
            width="${BAR - GAP}"
            height="26"
            ><title>${bucketTitle(b)}</title></rect
          >`,
      )}
    </svg>
    <div class="axis">
      <span>${buckets[0] === undefined ? '' : `${hhmm(buckets[0].start)} UTC`}</span
      ><span>now</span>
    </div>
    <div class="legend muted">
      <span><i class="ok"></i>ok</span><span><i class="degraded"></i>degraded</span
      ><span><i class="failing"></i>failing</span><span><i class="idle"></i>idle</span>
    </div>`;
}

/** Requests per five-minute bucket over the same 24 h, failed ones stacked in red. */
export function throughputChart(buckets: readonly HealthStripBucket[]): SafeHtml {
  const height = 70;
  const max = Math.max(1, ...buckets.map((b) => b.requests));
  const width = buckets.length * BAR;
  const scale = (n: number) => Math.round((n / max) * height * 100) / 100;
  return html`<svg
      class="chart throughput"
      data-block="throughput"
      role="img"
      viewBox="0 0 ${width} ${height}"
      preserveAspectRatio="none"
      aria-label="Requests per five minutes, peak ${max}"
    >
      ${buckets.map((b, i) => {
        if (b.requests === 0) return '';
        const total = scale(b.requests);
        const failed = scale(b.failures);
        return html`<g
          ><title>${bucketTitle(b)}</title
          ><rect
            class="bar"
            x="${i * BAR}"
            y="${height - total}"
            width="${BAR - GAP}"
            height="${total}"
          ></rect
          >${
            failed > 0 &&
            html`<rect
              class="bar-failed"
              x="${i * BAR}"
              y="${height - failed}"
              width="${BAR - GAP}"
              height="${failed}"
            ></rect>`
          }</g
        >`;
      })}
    </svg>
    <div class="axis"><span>peak ${max} requests / 5 min</span><span>now</span></div>`;
}
