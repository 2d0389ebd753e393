#!/usr/bin/env node
// CommonJS (bin/package.json): no ES module loader to start for a call (bench/inject.mjs).
require('./topic.cjs').main('smppd');
