import { oclifCommand } from '../../lib/cli/oclif.js';
import { run } from '../../lib/cli/topics/smsd-run.js';

// The flags, texts and behaviour are in the spec (src/lib/cli/topics/); bin/topic.cjs runs the same.
export default oclifCommand(run);
