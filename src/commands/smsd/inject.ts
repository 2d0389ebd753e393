import { oclifCommand } from '../../lib/cli/oclif.js';
import { inject } from '../../lib/cli/topics/smsd-inject.js';

// The flags, texts and behaviour are in the spec (src/lib/cli/topics/); bin/topic.cjs runs the same.
export default oclifCommand(inject);
