#!/usr/bin/env node
import { runTopic } from './topic.js';

await runTopic('smsd', process.argv.slice(2));
