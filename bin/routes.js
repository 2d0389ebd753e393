#!/usr/bin/env node
import { runTopic } from './topic.js';

await runTopic('routes', process.argv.slice(2));
