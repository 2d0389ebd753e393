import type { InboxMessage, OutboxJob, SmsdService } from './types.js';

/** Gammu's NULL service: stores nothing, never has anything to send; messages are still read and deleted. */
export class NullService implements SmsdService {
  readonly name = 'null';
  async init(): Promise<void> {}
  async free(): Promise<void> {}
  async initAfterConnect(): Promise<void> {}
  async saveInbox(_m: InboxMessage): Promise<string[]> {
    return [];
  }
  async findOutbox(): Promise<OutboxJob | undefined> {
    return undefined;
  }
  async addSentInfo(): Promise<void> {}
  async updateRetries(): Promise<'retry' | 'give-up'> {
    return 'give-up';
  }
  async moveSms(): Promise<void> {}
  async refreshSendStatus(): Promise<void> {}
  async refreshPhoneStatus(): Promise<void> {}
}
