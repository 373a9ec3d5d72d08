#!/usr/bin/env node
// Child process of bench/webhooks.js: starts Switchboard (built, from dist/) on a free port with
// the environment it is given, prints `READY <url>` and serves until killed.
'use strict';
require('reflect-metadata');
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist', 'src');
const { loadConfig } = require(path.join(dist, 'config', 'config.js'));
const { createLogger } = require(path.join(dist, 'observability', 'logger.js'));
const { startRuntime } = require(path.join(dist, 'runtime.js'));

async function main() {
  const role = process.argv[2] || 'api';
  const config = loadConfig(process.env);
  const log = createLogger({ level: process.env.LOG_LEVEL || 'warn' });
  const runtime = await startRuntime(config, log, { role, listen: true });
  const address = runtime.app.getHttpServer().address();
  process.stdout.write(`READY http://127.0.0.1:${address.port}\n`);
  const stop = () => runtime.stop().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
