#!/usr/bin/env node
import { runTopic } from './topic.js';

await runTopic('esme', process.argv.slice(2));
