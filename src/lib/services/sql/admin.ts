/** `smsd db init` and `smsd db upgrade`: create or upgrade Gammu's tables in the configured database. */
import { loadSmsdConfig, type SmsdConfig } from '../../config/smsd-config.js';
import { SqlConnection } from './connection.js';
import type { SchemaVersion } from './queries.js';
import { initSchema, upgradeSchema, LATEST_VERSION } from './schema.js';
import { connectOptions } from './settings.js';

export interface DbCommandResult {
  code: number;
  message: string;
}

function load(configPath: string | undefined): SmsdConfig {
  const { config } = loadSmsdConfig(configPath);
  if (config.smsd.service !== 'sql')
    throw new Error(`the config uses Service = ${config.smsd.service}; smsd db needs Service = sql`);
  return config;
}

/** Identifiers we create ourselves must be plain names (they cannot be bound as parameters). */
function plainName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(name))
    throw new Error(`database name ${JSON.stringify(name)} is not a plain identifier; create it by hand`);
  return name;
}

async function createDatabase(config: SmsdConfig): Promise<void> {
  const o = connectOptions(config);
  const admin = new SqlConnection({ ...o, database: o.dialect === 'mysql' ? '' : 'postgres', retries: 1 });
  try {
    await admin.connect();
    const name = plainName(o.database);
    await admin.query(
      o.dialect === 'mysql'
        ? `CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4`
        : `CREATE DATABASE ${name}`,
    );
  } finally {
    await admin.close();
  }
}

export async function dbInit(
  configPath: string | undefined,
  version: SchemaVersion = LATEST_VERSION,
  create = false,
): Promise<DbCommandResult> {
  const config = load(configPath);
  const o = connectOptions(config);
  // SQLite: the database is a file, created here (in an existing DBDir) whether or not --create is given.
  if (create && o.dialect !== 'sqlite') await createDatabase(config);
  const conn = new SqlConnection({ ...o, create: o.dialect === 'sqlite' });
  try {
    await conn.connect();
    await initSchema(conn, config.tables, version);
    return { code: 0, message: `Created Gammu's tables at schema version ${version} in ${conn.target}` };
  } finally {
    await conn.close();
  }
}

export async function dbUpgrade(configPath: string | undefined): Promise<DbCommandResult> {
  const config = load(configPath);
  const conn = new SqlConnection(connectOptions(config));
  try {
    await conn.connect();
    const { from, to } = await upgradeSchema(conn, config.tables);
    return {
      code: 0,
      message:
        from === to
          ? `Schema already at version ${to} in ${conn.target}`
          : `Upgraded the schema from version ${from} to ${to} in ${conn.target}`,
    };
  } finally {
    await conn.close();
  }
}
