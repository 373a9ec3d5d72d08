import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubSpotFake, type HubSpotFake } from '../../../../test/fakes/hubspot';
import { HubSpotClient, HubSpotError, leadToHubSpotProperties } from './hubspot.client';

describe('HubSpot CRM v3 client (against the local fake)', () => {
  let fake: HubSpotFake;
  let client: HubSpotClient;
  beforeAll(async () => {
    fake = await startHubSpotFake('pat-test');
    client = new HubSpotClient({ baseUrl: `${fake.url}/`, token: 'pat-test', timeoutMs: 2000 });
  });
  afterAll(() => fake.close());

  it('upserts contacts by email in the documented batch format', async () => {
    const res = await client.batchUpsertContacts([
      {
        email: 'ann@example.com',
        properties: leadToHubSpotProperties({ email: 'ann@example.com', first_name: 'Ann', phone: '' }),
      },
    ]);
    expect(res.partial).toBe(false);
    expect(res.results[0]).toMatchObject({ new: true, properties: { email: 'ann@example.com', firstname: 'Ann' } });
    const sent = fake.upserts.at(-1)!;
    expect(sent.authorization).toBe('Bearer pat-test');
    expect(sent.body).toEqual({
      inputs: [{ idProperty: 'email', id: 'ann@example.com', properties: { email: 'ann@example.com', firstname: 'Ann' } }],
    });

    const again = await client.batchUpsertContacts([{ email: 'ann@example.com', properties: { lastname: 'Lee' } }]);
    expect(again.results[0]).toMatchObject({ new: false, id: res.results[0].id });
    expect(fake.contacts.get('ann@example.com')!.properties).toMatchObject({ firstname: 'Ann', lastname: 'Lee' });
  });

  it('reports partial failures (207)', async () => {
    const res = await client.batchUpsertContacts([
      { email: 'ok@example.com', properties: {} },
      { email: 'broken', properties: {} },
    ]);
    expect(res.partial).toBe(true);
    expect(res.results).toHaveLength(1);
    expect(res.errors).toHaveLength(1);
  });

  it('marks 429 retryable with Retry-After, 401 and 400 permanent, network errors retryable', async () => {
    fake.failNext({ status: 429, headers: { 'retry-after': '7' }, body: '{"status":"error","message":"rate limited"}' });
    const limited = await client.batchUpsertContacts([{ email: 'a@example.com', properties: {} }]).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(HubSpotError);
    expect(limited).toMatchObject({ status: 429, retryable: true, retryAfterMs: 7000 });

    fake.failNext({ status: 502 });
    expect(await client.batchUpsertContacts([{ email: 'a@example.com', properties: {} }]).catch((e: unknown) => e)).toMatchObject(
      {
        retryable: true,
      },
    );

    const wrongToken = new HubSpotClient({ baseUrl: fake.url, token: 'nope' });
    expect(
      await wrongToken.batchUpsertContacts([{ email: 'a@example.com', properties: {} }]).catch((e: unknown) => e),
    ).toMatchObject({
      status: 401,
      retryable: false,
    });

    const down = new HubSpotClient({ baseUrl: 'http://127.0.0.1:1', token: 'x', timeoutMs: 500 });
    expect(await down.batchUpsertContacts([{ email: 'a@example.com', properties: {} }]).catch((e: unknown) => e)).toMatchObject({
      status: null,
      retryable: true,
    });
  });

  it('never sends empty values and only moves lifecycle stage forward to customer', () => {
    expect(
      leadToHubSpotProperties({ email: 'a@b.co', first_name: ' ', last_name: null, company: 'Acme', status: 'new' }),
    ).toEqual({
      company: 'Acme',
    });
    expect(leadToHubSpotProperties({ email: 'a@b.co', status: 'customer' })).toEqual({ lifecyclestage: 'customer' });
  });
});
