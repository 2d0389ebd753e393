#!/usr/bin/env -S node --max-semi-space-size=1
// A 1 MB young generation keeps a long-running `smsd run` near 60 MB resident instead of ~95 MB
// (bench/daemon.mjs), at no measurable cost in throughput or in the start-up of `smsd inject`.

// `smsgate smsd inject ...` is `smsd inject ...` (src/lib/cli/main.ts picks the topic).
// CommonJS (bin/package.json): no ES module loader to start for a call (bench/inject.mjs).
require('./topic.cjs').main(undefined);
