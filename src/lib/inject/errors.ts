/**
 * Exit codes of gammu-smsd-inject: 1 for a bad option or a message that cannot be built,
 * 2 when the config cannot be read, 3 when the backend refuses the message, and 255 for
 * parameter errors that Gammu reports through exit(-1).
 */
export const EXIT = {
  ok: 0,
  invalidOption: 1,
  createFailed: 1,
  config: 2,
  inject: 3,
  parameter: 255,
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
