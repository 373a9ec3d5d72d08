#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'src', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('switchboard: not built yet; run `npm run build` (npm install does it for you)\n');
  process.exit(1);
}
require('reflect-metadata');
require(entry)
  .buildCli()
  .parseAsync(process.argv)
  .catch((err) => {
    process.stderr.write(`switchboard: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
