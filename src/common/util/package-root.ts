import fs from 'node:fs';
import path from 'node:path';

/** The project root, found by walking up to package.json; works from src/ (tests) and dist/. */
export function packageRoot(from = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${from}`);
    dir = parent;
  }
  return dir;
}
