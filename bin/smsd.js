#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size
// A 1 MB young generation keeps a long-running `smsd run` near 60 MB resident instead of ~95 MB
// (bench/daemon.mjs), at no measurable cost in throughput or in the start-up of `smsd inject`.
// --optimize-for-size: V8 grows the old generation less before collecting it; an outlet draining
// 30,000 queued files peaked at 75 MB instead of 95-97 MB (live heap ~15 MB, the rest garbage not
// yet collected), at the same rate within the noise of a loaded machine (bench/outlet.mjs).
// CommonJS (bin/package.json): no ES module loader to start for a call (bench/inject.mjs).
require('./topic.cjs').main('smsd');
