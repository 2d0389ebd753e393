#!/usr/bin/env node
import { runTopic } from './topic.js';

const [topic, ...rest] = process.argv.slice(2);
if (topic === 'smsd' || topic === 'smppd' || topic === 'routes' || topic === 'esme')
  await runTopic(topic, rest);
else await runTopic(undefined, process.argv.slice(2));
