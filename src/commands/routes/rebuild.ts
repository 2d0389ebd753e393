import { oclifCommand } from '../../lib/cli/oclif.js';
import { rebuild } from '../../lib/cli/topics/esme.js';

// The flags, texts and behaviour are in the spec (src/lib/cli/topics/); bin/topic.cjs runs the same.
export default oclifCommand(rebuild);
