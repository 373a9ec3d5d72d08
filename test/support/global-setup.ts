import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The CLI tests run the built program; build it once before the suites start. */
export default function setup(): void {
  const root = path.resolve(__dirname, '..', '..');
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules', '@swc', 'cli', 'bin', 'swc.js'), 'src', '-d', 'dist', '--copy-files', '-q'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}
