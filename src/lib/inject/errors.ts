import { EXIT as CLI_EXIT } from '../common/exit.js';

/**
 * Exit codes of gammu-smsd-inject: 1 for a bad option or a message that cannot be built,
 * 2 when the config cannot be read, 3 when the backend refuses the message, and 255 for
 * parameter errors that Gammu reports through exit(-1).
 */
export const EXIT = {
  ok: CLI_EXIT.ok,
  invalidOption: CLI_EXIT.failed,
  createFailed: CLI_EXIT.failed,
  config: CLI_EXIT.startup,
  inject: CLI_EXIT.unavailable,
  parameter: CLI_EXIT.parameter,
} as const;

export class InjectError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'InjectError';
  }
}

export const parameterError = (message: string): InjectError => new InjectError(message, EXIT.parameter);
