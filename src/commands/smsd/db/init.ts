import { oclifCommand } from '../../../lib/cli/oclif.js';
import { dbInit } from '../../../lib/cli/topics/smsd-db.js';

// The flags, texts and behaviour are in the spec (src/lib/cli/topics/); bin/topic.cjs runs the same.
export default oclifCommand(dbInit);
