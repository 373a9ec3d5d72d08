import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../src/auth/auth-context';
import { demoWelcomeEmailJob } from '../../src/jobs/demo.jobs';
import { JobsService } from '../../src/jobs/jobs.service';
import { backendCases, startJobsTestApp, type JobsTestApp } from '../integration/jobs-fixtures/backends';
import { JobRecorder, flakyJob, waitFor } from '../integration/jobs-fixtures/test-jobs.module';
import { addMember, bearer, createApiKey, registerUser, type RegisteredUser } from '../support/auth';

interface JobBody {
  id: string;
  queue: string;
  name: string;
  state: string;
  workspace_id: string | null;
  request_id: string | null;
  payload: unknown;
  attempts_made: number;
  attempts_max: number;
  last_error: string | null;
  created_at: string;
  run_at: string;
  processed_at: string | null;
  finished_at: string | null;
}

describe.each(await backendCases())('jobs admin API: $name', (backend) => {
  let t: JobsTestApp;
  let owner: RegisteredUser;
  let stranger: RegisteredUser;
  let jobs: JobsService;
  let ws: WorkspaceId;

  const get = (url: string, who: RegisteredUser = owner, headers: Record<string, string> = {}) =>
    t.inject({ url, headers: { ...bearer(who.access_token), ...headers } });
  const stateOf = async (id: string, queue = 'test') => (await get(`/api/v1/jobs/${queue}/${id}`)).json<JobBody>().state;

  /** A job of the owner's workspace that has failed for good. */
  async function deadJob(key = `dead-${uuidv7()}`): Promise<string> {
    const id = await jobs.enqueue(flakyJob, { key, fail_times: 99 }, { workspaceId: ws, attempts: 2 });
    await waitFor(async () => (await stateOf(id)) === 'failed', 15_000, 'failed');
    return id;
  }

  beforeAll(async () => {
    t = await startJobsTestApp(backend);
    owner = await registerUser(t);
    stranger = await registerUser(t);
    jobs = t.app.get(JobsService);
    ws = owner.workspace.id as WorkspaceId;
  });
  afterAll(() => t?.close());

  describe('access', () => {
    it('needs authentication and the jobs:manage scope', async () => {
      expect((await t.inject({ url: '/api/v1/jobs' })).statusCode).toBe(401);
      const member = await addMember(t, owner, 'member');
      expect((await get('/api/v1/jobs', member)).statusCode).toBe(403);
      const admin = await addMember(t, owner, 'admin');
      expect((await get('/api/v1/jobs', admin)).statusCode).toBe(200);
      const readKey = await createApiKey(t, owner.access_token, ['leads:read']);
      expect((await t.inject({ url: '/api/v1/jobs', headers: bearer(readKey.key) })).statusCode).toBe(403);
      const jobsKey = await createApiKey(t, owner.access_token, ['jobs:manage']);
      expect((await t.inject({ url: '/api/v1/jobs', headers: bearer(jobsKey.key) })).statusCode).toBe(200);
    });

    it('validates the query', async () => {
      expect((await get('/api/v1/jobs?state=sleeping')).statusCode).toBe(400);
      const unknown = await get('/api/v1/jobs?queue=nope');
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json<{ errors: Array<{ path: string }> }>().errors[0].path).toBe('queue');
      expect((await get('/api/v1/jobs?workspace_id=x')).statusCode).toBe(400);
      expect((await get('/api/v1/jobs?cursor=garbage')).statusCode).toBe(400);
    });
  });

  describe('reading', () => {
    it("lists and shows the workspace's jobs, and none of another workspace", async () => {
      const id = await deadJob();
      const list = await get('/api/v1/jobs?queue=test&state=failed');
      expect(list.statusCode).toBe(200);
      const item = list.json<{ data: JobBody[] }>().data.find((j) => j.id === id);
      expect(item).toMatchObject({ queue: 'test', name: 'test.flaky', state: 'failed', workspace_id: ws, attempts_made: 2 });

      const one = await get(`/api/v1/jobs/test/${id}`);
      expect(one.statusCode).toBe(200);
      const body = one.json<JobBody>();
      expect(body).toMatchObject({ id, last_error: 'flaky failure 2', attempts_max: 2 });
      expect(Object.keys(body).sort()).toEqual(
        [
          'attempts_made',
          'attempts_max',
          'created_at',
          'finished_at',
          'id',
          'last_error',
          'name',
          'payload',
          'processed_at',
          'queue',
          'request_id',
          'run_at',
          'state',
          'workspace_id',
        ].sort(),
      );
      expect(new Date(body.finished_at!).getTime()).toBeGreaterThanOrEqual(new Date(body.created_at).getTime());

      // The stranger's workspace sees nothing of it.
      expect((await get(`/api/v1/jobs/test/${id}`, stranger)).statusCode).toBe(404);
      const theirs = await get('/api/v1/jobs?queue=test&state=failed', stranger);
      expect(theirs.json<{ data: JobBody[] }>().data).toEqual([]);
      expect((await get(`/api/v1/jobs/nope/${id}`)).statusCode).toBe(404);
      expect((await get(`/api/v1/jobs/test/${uuidv7()}`)).statusCode).toBe(404);
    });

    it('pages through a list with a cursor, walking every state when none is given', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push(
          await jobs.enqueue(demoWelcomeEmailJob, { lead_id: uuidv7(), dry_run: true }, { workspaceId: ws, delay: 3_600_000 }),
        );
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await get(`/api/v1/jobs?queue=default&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.statusCode).toBe(200);
        const page = res.json<{ data: JobBody[]; next_cursor: string | null }>();
        expect(page.data.length).toBeLessThanOrEqual(2);
        seen.push(...page.data.map((j) => j.id));
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 20);
      expect(seen).toEqual(expect.arrayContaining(ids));
      expect(new Set(seen).size).toBe(seen.length);
      const all = await get('/api/v1/jobs?limit=100000');
      expect(all.statusCode).toBe(200);
    });
  });

  describe('changing', () => {
    it('retries a failed job (409 for one that is not failed)', async () => {
      const rec = t.app.get(JobRecorder);
      const key = `retry-${uuidv7()}`;
      const id = await deadJob(key);
      rec.failOverride.set(key, 0);
      const res = await t.inject({ method: 'POST', url: `/api/v1/jobs/test/${id}/retry`, headers: bearer(owner.access_token) });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<JobBody>().id).toBe(id);
      await waitFor(async () => (await stateOf(id)) === 'completed', 15_000, 'completed');
      const again = await t.inject({ method: 'POST', url: `/api/v1/jobs/test/${id}/retry`, headers: bearer(owner.access_token) });
      expect(again.statusCode).toBe(409);
      expect(again.headers['content-type']).toMatch(/problem\+json/);
    });

    it('deletes a job that is not running; another workspace cannot', async () => {
      const id = await jobs.enqueue(
        demoWelcomeEmailJob,
        { lead_id: uuidv7(), dry_run: true },
        { workspaceId: ws, delay: 3_600_000 },
      );
      const foreign = await t.inject({
        method: 'DELETE',
        url: `/api/v1/jobs/default/${id}`,
        headers: bearer(stranger.access_token),
      });
      expect(foreign.statusCode).toBe(404);
      const res = await t.inject({ method: 'DELETE', url: `/api/v1/jobs/default/${id}`, headers: bearer(owner.access_token) });
      expect(res.statusCode).toBe(204);
      expect((await get(`/api/v1/jobs/default/${id}`)).statusCode).toBe(404);
    });
  });

  describe('request ids and the outbox over HTTP', () => {
    it("carries the request's X-Request-Id into the event job and its log lines", async () => {
      const rec = t.app.get(JobRecorder);
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/__jobs_probe/emit',
        headers: { 'x-request-id': 'req-jobs-e2e-1' },
        payload: { workspace_id: ws },
      });
      expect(res.statusCode, res.body).toBe(201);
      const { event_id } = res.json<{ event_id: string }>();
      const [event] = await waitFor(
        () => (rec.eventsWith(event_id).length ? rec.eventsWith(event_id) : undefined),
        10_000,
        'event',
      );
      expect(event.request_id).toBe('req-jobs-e2e-1');
      const line = await waitFor(
        () => t.logLines.find((l) => l.includes('"msg":"job completed"') && l.includes(event_id)),
        5000,
        'job log line',
      );
      expect(JSON.parse(line)).toMatchObject({
        request_id: 'req-jobs-e2e-1',
        job: 'lead.created',
        queue: 'events',
        job_id: event_id,
      });
      // The log line is written when the handler returns; BullMQ marks the job completed just after.
      const view = await waitFor(
        async () => {
          const body = (await get(`/api/v1/jobs/events/${event_id}`)).json<JobBody>();
          return body.state === 'completed' ? body : undefined;
        },
        5000,
        'job completed in the admin API',
      );
      expect(view).toMatchObject({ request_id: 'req-jobs-e2e-1', state: 'completed', name: 'lead.created' });
    });

    it('answers 5xx and leaves no event when the transaction fails after emit', async () => {
      const count = async () =>
        Number((await t.runtime.database.pool.query<{ n: string }>('select count(*) as n from events')).rows[0].n);
      const before = await count();
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/__jobs_probe/emit',
        headers: { 'x-fail': '1' },
        payload: { workspace_id: ws },
      });
      expect(res.statusCode).toBe(500);
      expect(await count()).toBe(before);
    });

    it('exposes queue metrics', async () => {
      const body = (await t.inject({ url: '/metrics' })).body;
      expect(body).toMatch(/^jobs_processed_total\{queue="events",name="lead.created"\} [1-9]/m);
      expect(body).toMatch(/^jobs_failed_total\{queue="test",name="test.flaky",final="true"\} [1-9]/m);
      expect(body).toMatch(/^jobs_queue_depth\{queue="test",state="failed"\} \d+/m);
      expect(body).toMatch(/^job_duration_seconds_count\{queue="test",name="test.flaky",status="failed"\} [1-9]/m);
      expect(body).toMatch(/^outbox_lag_seconds \d/m);
    });
  });
});
