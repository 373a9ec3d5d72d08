#!/usr/bin/env node
/**
 * The baseline of `npm run bench:leads`: POST /api/v1/leads written the way most people would,
 * with bare Fastify + pg: check a bearer token, then BEGIN, upsert the lead, insert the outbox
 * event, COMMIT — four round trips per request. Same normalisation and same response shape as
 * Switchboard's 201/200. Prints `READY <url>`.
 */
'use strict';
const crypto = require('node:crypto');
const Fastify = require('fastify');
const pg = require('pg');

const TOKEN = process.env.BASELINE_TOKEN;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX || 10) });

async function main() {
  await pool.query(`
    create table if not exists leads (
      id uuid primary key, workspace_id uuid not null, email text not null, first_name text, last_name text,
      source text, tags text[] not null default '{}', created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(), unique (workspace_id, email));
    create table if not exists outbox (
      id uuid primary key, workspace_id uuid not null, type text not null, payload jsonb not null,
      occurred_at timestamptz not null default now(), published_at timestamptz);`);
  const workspace = crypto.randomUUID();
  const app = Fastify({ logger: false });
  app.post('/api/v1/leads', async (req, reply) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply.code(401).send({ error: 'unauthenticated' });
    const body = req.body || {};
    if (typeof body.email !== 'string' || !body.email.includes('@')) return reply.code(400).send({ error: 'email' });
    const email = body.email.trim().normalize('NFC').toLowerCase();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        `insert into leads (id, workspace_id, email, first_name, last_name, source, tags)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (workspace_id, email) do update set
           first_name = coalesce(excluded.first_name, leads.first_name),
           last_name = coalesce(excluded.last_name, leads.last_name),
           source = coalesce(leads.source, excluded.source),
           updated_at = now()
         returning *, (xmax = 0) as inserted`,
        [
          crypto.randomUUID(),
          workspace,
          email,
          body.first_name || null,
          body.last_name || null,
          body.source || null,
          body.tags || [],
        ],
      );
      const lead = rows[0];
      await client.query(`insert into outbox (id, workspace_id, type, payload) values ($1, $2, $3, $4)`, [
        crypto.randomUUID(),
        workspace,
        lead.inserted ? 'lead.created' : 'lead.updated',
        { lead_id: lead.id },
      ]);
      await client.query('COMMIT');
      const { inserted, ...view } = lead;
      return reply.code(inserted ? 201 : 200).send({ result: inserted ? 'created' : 'merged', lead: view });
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`READY http://127.0.0.1:${app.server.address().port}\n`);
  const stop = () =>
    app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
