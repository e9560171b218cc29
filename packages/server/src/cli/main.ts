import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/env.ts';
import { resolveJwtSecret } from '../config/secrets.ts';
import { createDatabase } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createTokenService } from '../http/auth-tokens.ts';
import { runUntilSignalled } from '../main.ts';

const USAGE = `Usage: sync-engine <command>

Commands:
  start                         run the server (migrates first)
  migrate                       apply database migrations and exit
  token --user <id> [--admin] [--ttl <seconds>]
                                print a bearer token for local use

Configuration comes from the environment (see README).`;

async function token(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { user: { type: 'string' }, admin: { type: 'boolean', default: false }, ttl: { type: 'string' } },
    strict: true,
  });
  const user = values.user;
  if (user === undefined || user.length === 0 || user.length > 128) {
    throw new UsageError('token needs --user <id> (1–128 characters)');
  }
  let ttlSeconds: number | undefined;
  if (values.ttl !== undefined) {
    ttlSeconds = Number(values.ttl);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new UsageError('--ttl must be a positive number of seconds');
  }
  const secret = await resolveJwtSecret(loadConfig());
  const jwt = await createTokenService(secret).issue(user, {
    admin: values.admin,
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
  });
  process.stdout.write(`${jwt}\n`);
}

async function migrate(): Promise<void> {
  const config = loadConfig();
  const database = await createDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    await migrateToLatest(database.db);
    process.stdout.write(`migrated (${database.driver})\n`);
  } finally {
    await database.close();
  }
}

class UsageError extends Error {}

/** Entry point of the `sync-engine` command. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
        await runUntilSignalled();
        return -1; // keeps running; the signal handler exits
      case 'migrate':
        await migrate();
        return 0;
      case 'token':
        await token(rest);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`sync-engine: ${err.message}\n`);
      if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`sync-engine: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`sync-engine: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
