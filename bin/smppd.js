#!/usr/bin/env node
import { runTopic } from './topic.js';

await runTopic('smppd', process.argv.slice(2));
