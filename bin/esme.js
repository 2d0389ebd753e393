#!/usr/bin/env node
import { createRequire } from 'node:module';

await createRequire(import.meta.url)('./topic.cjs').runTopic('esme', process.argv.slice(2));
