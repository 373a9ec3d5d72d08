#!/usr/bin/env node
// Runs every `bench:*` npm script in sequence (each compares against its own bare baseline).
'use strict';
const { spawnSync } = require('node:child_process');
const pkg = require('../package.json');

const only = process.argv.slice(2);
const names = Object.keys(pkg.scripts)
  .filter((s) => s.startsWith('bench:'))
  .filter((s) => !only.length || only.includes(s.slice('bench:'.length)));
if (!names.length) {
  console.error('no bench:* scripts found');
  process.exit(1);
}
let failed = 0;
for (const name of names) {
  console.log(`\n### npm run ${name}`);
  const res = spawnSync('npm', ['run', '-s', name], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
