import { ensureEmbeddedSpool } from '../spool/layout.js';
import { loadSmsdConfig, type SmsdConfig } from '../config/smsd-config.js';
import { BUILTIN_SOURCE } from '../config/locate.js';
import type { ConfigWarning } from '../config/errors.js';
import type { OutboxFormat } from '../spool/outbox-files.js';
import { InjectError, EXIT } from './errors.js';

/** Where and how `smsd inject` writes, from the SMSD config. */
export interface InjectTarget {
  service: 'files';
  outboxDir: string;
  format: OutboxFormat;
  /** Folders a handled message moves to (journal recovery must not resurrect those). */
  handledDirs: string[];
  warnings: ConfigWarning[];
  source: string;
}

/** `Service = sql`: the message goes into the outbox table of the configured database. */
export interface SqlInjectTarget {
  service: 'sql';
  config: SmsdConfig;
  warnings: ConfigWarning[];
  source: string;
}

/** The target of any service `smsd inject` can write to. */
export function resolveAnyTarget(configPath: string | undefined): InjectTarget | SqlInjectTarget {
  let loaded: ReturnType<typeof loadSmsdConfig>;
  try {
    loaded = loadSmsdConfig(configPath);
  } catch (err) {
    throw new InjectError(`Failed to read config: ${(err as Error).message}`, EXIT.config);
  }
  const { config, warnings, source } = loaded;
  const builtin = source === BUILTIN_SOURCE;
  const smsd = config.smsd;
  if (smsd.service === 'sql') return { service: 'sql', config, warnings, source };
  if (smsd.service !== 'files')
    throw new InjectError(
      `Failed to inject message: Service = ${smsd.service} has no outbox; use Service = files or sql`,
      EXIT.inject,
    );
  const outboxDir = smsd.outboxPath.path;
  if (builtin) ensureEmbeddedSpool(config);
  return {
    service: 'files',
    outboxDir,
    format: smsd.outboxFormat,
    handledDirs: [smsd.sentSmsPath.path, smsd.errorSmsPath.path],
    warnings,
    source,
  };
}

/** A files target (the spool); other services are refused. */
export function resolveTarget(configPath: string | undefined): InjectTarget {
  const t = resolveAnyTarget(configPath);
  if (t.service !== 'files')
    throw new InjectError(
      `Failed to inject message: Service = ${t.service} is not available here; use Service = files`,
      EXIT.inject,
    );
  return t;
}
