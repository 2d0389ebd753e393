/**
 * AT command engine: transports (serial, TCP), the one-command-at-a-time channel with URC
 * handling, reply parsers, and Phone (the modem operations smsd uses).
 */
export * from './errors.js';
export * from './transport.js';
export * from './urc.js';
export * from './replies.js';
export * from './channel.js';
export * from './phone.js';
