import path from 'node:path';
import type { SmsdConfig } from '../config/smsd-config.js';
import type { Logger } from '../common/log.js';

/**
 * `Device = emulator` (the built-in default) runs the product's GSM modem emulator inside
 * `smsd run`, on a real pseudo-terminal `<spool>/modem` (control socket `<spool>/modem.ctl`), so
 * the gateway works out of the box without hardware and still speaks AT over a serial device.
 * `emulator:/some/path` chooses the device path.
 */
export function isEmulatorDevice(device: string): boolean {
  return device === 'emulator' || device.startsWith('emulator:');
}

export async function startEmbeddedEmulator(
  config: SmsdConfig,
  log: Logger,
): Promise<{ device: string; stop(): Promise<void> }> {
  const d = config.gammu.device;
  const device = d.startsWith('emulator:')
    ? path.resolve(d.slice('emulator:'.length))
    : path.join(path.dirname(config.smsd.outboxPath.path), 'modem');
  const { startEmulator } = await import('../emulator/server.js');
  let server: Awaited<ReturnType<typeof startEmulator>>;
  try {
    server = await startEmulator({ device, log: (line) => log('debug', `emulator: ${line}`) });
  } catch (err) {
    const why = (err as Error).message;
    throw new Error(
      /socat.*ENOENT/.test(why)
        ? `the built-in modem emulator needs socat for its pseudo-terminal (${why}); install it: apt-get install socat`
        : `cannot start the built-in modem emulator on ${device}: ${why}`,
    );
  }
  log('info', `emulated modem on ${device} (control socket ${device}.ctl)`);
  return { device, stop: () => server.close() };
}
