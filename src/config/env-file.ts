import fs from 'node:fs';
import dotenv from 'dotenv';

/** Loads `.env` from the working directory when present; real environment variables win. */
export function loadEnvFile(file = '.env'): void {
  if (fs.existsSync(file)) dotenv.config({ path: file, quiet: true });
}
