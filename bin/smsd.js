#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size
// A 1 MB young generation keeps a long-running `smsd run` near 60 MB resident instead of ~95 MB
// (bench/daemon.mjs), at no measurable cost in throughput or in the start-up of `smsd inject`.
// --optimize-for-size: V8 grows the old generation less before collecting it; an outlet draining
// 50,000 queued files peaked at 81 MB instead of 114 MB (live heap ~15 MB, the rest garbage not yet
// collected), at a cost of 0-20 % of its rate in alternating runs (README, performance).
// CommonJS (bin/package.json): no ES module loader to start for a call (bench/inject.mjs).
require('./topic.cjs').main('smsd');
