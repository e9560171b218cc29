import { createGunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { SyncError, jsonDepth } from '@sync-engine/shared';

export const MAX_JSON_DEPTH = 64;

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body's text as it arrived (inflated), for capture to store without re-serialising. */
    jsonBodyText: string | null;
  }
}

/**
 * JSON bodies only (anything else → 415), nesting depth ≤ 64, and gzip bodies inflated
 * before the body limit counts them, so a small compressed bomb cannot pass the limit.
 */
export function installBodyParsing(app: FastifyInstance): void {
  app.decorateRequest('jsonBodyText', null);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    /^application\/([a-z0-9.+-]*\+)?json(\s*;.*)?$/i,
    { parseAs: 'string' },
    (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') {
        done(new SyncError('VALIDATION_ERROR', 'Request body must not be empty'), undefined);
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        done(new SyncError('VALIDATION_ERROR', 'Request body is not valid JSON'), undefined);
        return;
      }
      if (jsonDepth(parsed) > MAX_JSON_DEPTH) {
        done(new SyncError('VALIDATION_ERROR', `JSON nesting is deeper than ${MAX_JSON_DEPTH}`), undefined);
        return;
      }
      request.jsonBodyText = text;
      done(null, parsed);
    },
  );
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding']?.toLowerCase();
    if (encoding === undefined || encoding === 'identity') return payload;
    if (encoding !== 'gzip') {
      throw new SyncError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${encoding} is not supported; use gzip`);
    }
    // The limit applies to the stream handed back here, i.e. to the decompressed bytes.
    delete request.headers['content-length'];
    const gunzip = createGunzip();
    payload.on('error', (err) => gunzip.destroy(err));
    gunzip.on('error', () => undefined);
    return payload.pipe(gunzip);
  });
}
