// Regenerates the configuration table in README.md from .env.example (the single source of
// variable documentation). `node scripts/config-docs.mjs` rewrites; `--check` fails when stale.
import fs from 'node:fs';
import * as prettier from 'prettier';

const example = fs.readFileSync('.env.example', 'utf8').split('\n');
const rows = [];
let section = '';
let comment = [];
for (const line of example) {
  const sectionMatch = /^# --- (.+?) -+$/.exec(line);
  if (sectionMatch) {
    section = sectionMatch[1];
    comment = [];
    continue;
  }
  if (line.startsWith('#')) {
    comment.push(line.replace(/^#\s?/, ''));
    continue;
  }
  const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
  if (m) {
    const desc = comment.join(' ').replace(/\|/g, '\\|');
    rows.push(`| \`${m[1]}\` | ${section} | ${m[2] ? `\`${m[2]}\`` : ''} | ${desc} |`);
  }
  comment = [];
}
const table = ['| Variable | Area | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n');
const readme = fs.readFileSync('README.md', 'utf8');
const start = '<!-- config:start -->';
const end = '<!-- config:end -->';
const options = { ...(await prettier.resolveConfig('README.md')), parser: 'markdown' };
const next = await prettier.format(readme.replace(new RegExp(`${start}[\\s\\S]*?${end}`), `${start}\n${table}\n${end}`), options);
if (process.argv.includes('--check')) {
  if (next !== readme) {
    console.error('README configuration table is stale: run node scripts/config-docs.mjs');
    process.exit(1);
  }
} else {
  fs.writeFileSync('README.md', next);
}
