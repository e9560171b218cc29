/// <reference types="node" />
// eslint-disable-next-line no-restricted-imports -- tests may do I/O; purity binds the shipped source
import { existsSync, readFileSync } from 'node:fs';
// eslint-disable-next-line no-restricted-imports -- tests may do I/O; purity binds the shipped source
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHANGE_ERROR_CODES, ERROR_CODES, httpStatusOf, type ErrorCode } from './codes.ts';
import { SyncError } from './sync-error.ts';

const repoRoot = new URL('../../../../', import.meta.url);
const docsPath = fileURLToPath(new URL('docs/errors.md', repoRoot));
// The contract sits beside the repository (…/main/../shared/CONTRACT.md).
const contractPath = fileURLToPath(new URL('../shared/CONTRACT.md', repoRoot));
const hasContract = existsSync(contractPath);

/** Rows `| \`CODE\` | value | meaning |` of the table under a `## heading`. */
function tableUnder(markdown: string, heading: string): Map<string, string> {
  const start = markdown.indexOf(`## ${heading}`);
  if (start < 0) throw new Error(`docs/errors.md has no "## ${heading}" section`);
  const rest = markdown.slice(start + 3);
  const section = rest.slice(0, rest.indexOf('\n## ') < 0 ? undefined : rest.indexOf('\n## '));
  const rows = new Map<string, string>();
  for (const match of section.matchAll(
    /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|([^|]+)\|[^|]*\S[^|]*\|\s*$/gm,
  )) {
    rows.set(match[1] ?? '', (match[2] ?? '').trim());
  }
  return rows;
}

describe('error catalogue', () => {
  it('uses UPPER_SNAKE codes and real HTTP error statuses', () => {
    for (const [code, { status, meaning }] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(status >= 400 && status <= 599, code).toBe(true);
      expect(meaning.length).toBeGreaterThan(0);
      expect(httpStatusOf(code as ErrorCode)).toBe(status);
      expect(new SyncError(code as ErrorCode, 'm').status).toBe(status);
    }
  });

  it('documents every request code with its status in docs/errors.md, and nothing else', () => {
    const documented = tableUnder(readFileSync(docsPath, 'utf8'), 'Request codes');
    expect(Object.fromEntries(documented)).toEqual(
      Object.fromEntries(
        Object.entries(ERROR_CODES).map(([code, { status }]) => [code, String(status)]),
      ),
    );
  });

  it('documents every change code with its retryability in docs/errors.md, and nothing else', () => {
    const documented = tableUnder(readFileSync(docsPath, 'utf8'), 'Change codes');
    expect(Object.fromEntries(documented)).toEqual(
      Object.fromEntries(
        Object.entries(CHANGE_ERROR_CODES).map(([code, { retryable }]) => [
          code,
          String(retryable),
        ]),
      ),
    );
  });
});

describe.skipIf(!hasContract)(
  `error codes against CONTRACT.md${hasContract ? '' : ` (skipped: ${contractPath} not found)`}`,
  () => {
    const contract = hasContract ? readFileSync(contractPath, 'utf8') : '';

    it('has every code of §2 "Codes used" in ERROR_CODES with the same status', () => {
      const start = contract.indexOf('Codes used:');
      expect(start, 'CONTRACT §2 has no "Codes used:" line').toBeGreaterThan(0);
      const line = contract.slice(start, contract.indexOf('\n- ', start));
      const used = [...line.matchAll(/`(\d{3}) ([A-Z_ |]+)`/g)].flatMap(([, status, codes]) =>
        (codes ?? '').split('|').map((code) => [code.trim(), Number(status)] as const),
      );
      expect(used.length).toBeGreaterThanOrEqual(15);
      for (const [code, status] of used) {
        expect(ERROR_CODES, `${code} is in CONTRACT §2 but not in ERROR_CODES`).toHaveProperty(
          code,
        );
        expect(ERROR_CODES[code as ErrorCode].status, `${code}'s status`).toBe(status);
      }
    });

    it('has every per-change code of §4 and §6 in CHANGE_ERROR_CODES, retryable as stated', () => {
      const listed =
        /"code": "([A-Z_]+(?:\|[A-Z_.]+)+)"/
          .exec(contract)?.[1]
          ?.split('|')
          .filter((c) => c !== '...') ?? [];
      expect(listed.length).toBeGreaterThan(0);
      for (const code of [...listed, 'CONFLICT_ALREADY_RESOLVED']) {
        expect(
          CHANGE_ERROR_CODES,
          `${code} is a per-change code in CONTRACT but not in CHANGE_ERROR_CODES`,
        ).toHaveProperty(code);
      }
      const stated = [...contract.matchAll(/`([A-Z_]+)`\s*\(`retryable: (true|false)`\)/g)];
      expect(stated.length).toBeGreaterThan(0);
      for (const [, code, retryable] of stated) {
        expect(
          CHANGE_ERROR_CODES[code as keyof typeof CHANGE_ERROR_CODES]?.retryable,
          `${code}'s retryable`,
        ).toBe(retryable === 'true');
      }
    });
  },
);
