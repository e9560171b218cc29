/*
 * `@sync-engine/server/testing`: the one door through which other workspace packages (the
 * e2e scenarios and the fleet simulator) start the real server. Test infrastructure only;
 * the server's runtime code is not exported, so nothing outside grows a dependency on it.
 */
import { loadConfig } from '../../src/config/env.ts';
import { resolveJwtSecret } from '../../src/config/secrets.ts';
import { createTokenService, type TokenService } from '../../src/http/auth-tokens.ts';

export {
  startTestServer,
  TEST_JWT_SECRET,
  type TestServer,
  type TestServerOptions,
} from './test-server.ts';
export {
  createTestDatabase,
  describeEachDatabase,
  testDatabaseDrivers,
  TEST_DATABASE_URL,
  type DatabaseTestTarget,
  type TestDatabase,
} from './test-database.ts';
export { waitForFeedHorizon } from './sync-client.ts';
export type { TokenService };

/**
 * Signs tokens the way a server started with `env` verifies them: AUTH_JWT_SECRET, or the
 * dev secret under DATA_DIR (what `npx sync-engine token` uses), for driving a running server.
 */
export async function tokenServiceFor(env: NodeJS.ProcessEnv = process.env): Promise<TokenService> {
  return createTokenService(await resolveJwtSecret(loadConfig(env)));
}

/** Signs tokens with a known secret. */
export function tokenServiceWithSecret(secret: string): TokenService {
  return createTokenService(secret);
}
