import { ensureEmbeddedSpool } from '../spool/layout.js';
import { loadSmsdConfig } from '../config/smsd-config.js';
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

export function resolveTarget(configPath: string | undefined): InjectTarget {
  let loaded: ReturnType<typeof loadSmsdConfig>;
  try {
    loaded = loadSmsdConfig(configPath);
  } catch (err) {
    throw new InjectError(`Failed to read config: ${(err as Error).message}`, EXIT.config);
  }
  const { config, warnings, source } = loaded;
  const builtin = source === BUILTIN_SOURCE;
  const smsd = config.smsd;
  if (smsd.service !== 'files')
    throw new InjectError(
      `Failed to inject message: Service = ${smsd.service} is not available to smsd inject yet; use Service = files`,
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
