import { oclifCommand } from '../../lib/cli/oclif.js';
import { emulate } from '../../lib/cli/topics/emulate.js';

// The flags, texts and behaviour are in the spec (src/lib/cli/topics/); bin/topic.cjs runs the same.
export default oclifCommand(emulate);
