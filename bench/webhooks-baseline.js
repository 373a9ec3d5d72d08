#!/usr/bin/env node
// The bare baseline of the inbound benchmark, written the way most people would: Fastify with a
// raw-body parser, Stripe's signature check with node:crypto (t=…,v1=…, HMAC-SHA256, 300 s
// tolerance, constant-time compare), JSON.parse, one INSERT … ON CONFLICT DO NOTHING through a pg
// pool. No auth, no rate limit, no logging, no queue. Prints `READY <url>`.
'use strict';
const crypto = require('node:crypto');
const Fastify = require('fastify');
const pg = require('pg');

const SECRET = process.env.BENCH_STRIPE_SECRET;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX || 10) });

function verify(raw, header) {
  if (!header) return false;
  let t;
  const sigs = [];
  for (const part of header.split(',')) {
    const [k, v] = part.split('=');
    if (k === 't') t = Number(v);
    else if (k === 'v1') sigs.push(v);
  }
  if (!t || !sigs.length || Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = Buffer.from(crypto.createHmac('sha256', SECRET).update(`${t}.${raw}`).digest('hex'));
  return sigs.some((s) => s.length === expected.length && crypto.timingSafeEqual(Buffer.from(s), expected));
}

async function main() {
  await pool.query(`create table if not exists bench_inbound (
    id uuid primary key default gen_random_uuid(), event_id text not null unique, type text not null,
    payload jsonb not null, received_at timestamptz not null default now())`);
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/webhooks/stripe', async (req, reply) => {
    const raw = req.body.toString('utf8');
    if (!verify(raw, req.headers['stripe-signature'])) return reply.code(400).send({ error: 'bad signature' });
    const event = JSON.parse(raw);
    await pool.query(
      'insert into bench_inbound (event_id, type, payload) values ($1, $2, $3) on conflict (event_id) do nothing',
      [event.id, event.type, raw],
    );
    return { received: true };
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`READY ${url}\n`);
  process.on('SIGTERM', () =>
    app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0)),
  );
}
main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
