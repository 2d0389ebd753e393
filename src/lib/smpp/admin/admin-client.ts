import { loadSmsdConfig } from '../../config/smsd-config.js';
import { readSmppdConfig, type AdminConfig, type SmppdConfig } from '../config.js';

/** `routes rebuild`, `esme unbind`: ask the running `smppd serve` through its admin HTTP port. */

export class AdminClientError extends Error {
  override name = 'AdminClientError';
}

/** The [smppd] section of the config (`-c FILE` or the usual search order). */
export function smppdConfigOf(configFile: string | undefined): { smppd: SmppdConfig; source: string } {
  const loaded = loadSmsdConfig(configFile);
  const { config } = readSmppdConfig(loaded.config.smppd, loaded.source, process.cwd(), loaded.config.smsd);
  return { smppd: config, source: loaded.source };
}

export interface AdminAnswer {
  status: number;
  data: { status?: string } & Record<string, unknown>;
}

/** GET `command`.json with the password in a header (never in a URL that logs may keep). */
export function adminRequest(
  admin: AdminConfig,
  command: string,
  params: Record<string, string> = {},
  timeoutMs = 5_000,
): Promise<AdminAnswer> {
  // A server listening on every address is reached on loopback.
  const host = admin.listen === '0.0.0.0' ? '127.0.0.1' : admin.listen === '::' ? '::1' : admin.listen;
  const query = new URLSearchParams(params).toString();
  const where = `${host}:${admin.port}`;
  // node:http loaded here, not at start: it costs ~4.5 ms, and `esme list` without a running
  // server never asks one.
  const http = process.getBuiltinModule('node:http');
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host,
        port: admin.port,
        path: `${command}.json${query ? `?${query}` : ''}`,
        headers: { 'X-Admin-Password': admin.password },
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          let data: AdminAnswer['data'];
          try {
            data = JSON.parse(body) as AdminAnswer['data'];
          } catch {
            // not JSON (parsing only): the plain-text answer
            data = { status: body.trim() };
          }
          resolve({ status: res.statusCode ?? 0, data });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) =>
      reject(new AdminClientError(`smppd serve is not reachable at ${where} (admin HTTP): ${err.message}`)),
    );
  });
}

/** Runs one admin command for a CLI: the line to print and the exit code. */
export async function adminCommand(
  configFile: string | undefined,
  command: string,
  params: Record<string, string> = {},
): Promise<{ ok: boolean; message: string }> {
  let admin: AdminConfig | undefined;
  let source: string;
  try {
    const c = smppdConfigOf(configFile);
    admin = c.smppd.admin;
    source = c.source;
  } catch (err) {
    return { ok: false, message: `cannot read the config: ${(err as Error).message}` };
  }
  if (!admin || admin.port === 0)
    return { ok: false, message: `${source}: [smppd] has no AdminPort: the admin HTTP interface is off` };
  try {
    const r = await adminRequest(admin, command, params);
    const text = r.data.status ?? `HTTP ${r.status}`;
    if (r.status === 401) return { ok: false, message: `smppd serve refused: wrong AdminPassword (${text})` };
    if (r.status !== 200) return { ok: false, message: `smppd serve refused (HTTP ${r.status}): ${text}` };
    return { ok: true, message: text };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}
