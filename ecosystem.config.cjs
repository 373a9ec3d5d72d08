// PM2 process file: `pm2 start ecosystem.config.cjs` after `npm ci && npm run build` and
// `node bin/switchboard.js migrate`. Secrets and DATABASE_URL / REDIS_URL come from the
// environment (or an .env file in this folder, which Switchboard reads itself).
module.exports = {
  apps: [
    {
      name: 'switchboard-api',
      script: 'bin/switchboard.js',
      args: 'start --role api',
      exec_mode: 'cluster',
      instances: 'max',
      max_memory_restart: '512M',
      kill_timeout: 15000,
      env: { NODE_ENV: 'production', MIGRATE_ON_START: 'false' },
    },
    {
      name: 'switchboard-worker',
      script: 'bin/switchboard.js',
      args: 'start --role worker',
      exec_mode: 'fork',
      instances: 2,
      max_memory_restart: '512M',
      kill_timeout: 30000,
      env: { NODE_ENV: 'production', MIGRATE_ON_START: 'false' },
    },
  ],
};
