import { describe, expect, it } from 'vitest';
import { EVENT_CATALOGUE, EVENT_TYPES } from '../../../events/catalogue';
import { bodyForEvent, samplePayload, TEST_EVENT_TYPE } from './event-types';

describe('outbound event samples', () => {
  it.each(EVENT_TYPES)('the sample of %s is a valid payload of the catalogue', (type) => {
    const parsed = EVENT_CATALOGUE[type].payload.safeParse(samplePayload(type));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it('a test ping has a message', () => {
    expect(samplePayload(TEST_EVENT_TYPE)).toHaveProperty('message');
  });

  it('wraps events in the Standard Webhooks envelope', () => {
    const body = JSON.parse(
      bodyForEvent({
        id: 'e1',
        type: 'lead.created',
        occurred_at: '2026-01-01T00:00:00.000Z',
        workspace_id: 'w1',
        payload: { lead_id: 'l1', source: 'api' },
      }),
    );
    expect(body).toEqual({
      id: 'e1',
      type: 'lead.created',
      timestamp: '2026-01-01T00:00:00.000Z',
      workspace_id: 'w1',
      data: { lead_id: 'l1', source: 'api' },
    });
  });
});
