#!/usr/bin/env -S node --max-semi-space-size=1
// A 1 MB young generation keeps a long-running `smsd run` near 60 MB resident instead of ~95 MB
// (bench/daemon.mjs), at no measurable cost in throughput or in the start-up of `smsd inject`.
import { createRequire } from 'node:module';

// `smsgate smsd inject ...` is `smsd inject ...` (src/lib/cli/main.ts picks the topic).
await createRequire(import.meta.url)('./topic.cjs').runTopic(undefined, process.argv.slice(2));
