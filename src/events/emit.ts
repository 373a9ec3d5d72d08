import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import type { WorkspaceId } from '../auth/auth-context';
import type { Db } from '../db/database';
import { events } from '../db/schema/events';
import { currentRequestId } from '../jobs/job-context';
import { EVENT_CATALOGUE, isEventType, type EventPayload, type EventSpec, type EventType } from './catalogue';

/** The drizzle database or a transaction of it (`db.transaction(async (tx) => …)`). */
export type DbExecutor = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

export interface EmitOptions {
  /** Defaults to the request id of the current HTTP request or job. */
  requestId?: string | null;
  /** Defaults to now (the database clock). */
  occurredAt?: Date;
}

export interface PendingEvent<T extends EventType = EventType> {
  type: T;
  payload: EventPayload<T>;
}

function validate(type: string, payload: unknown): Record<string, unknown> {
  if (!isEventType(type)) throw new Error(`emit: unknown event type "${type}"; add it to src/events/catalogue.ts`);
  const spec: EventSpec = EVENT_CATALOGUE[type];
  const parsed = spec.payload.safeParse(payload);
  // A payload that does not match the catalogue is a bug in the emitting service, not bad input.
  if (!parsed.success) throw new Error(`emit: invalid payload for "${type}": ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * Writes an event to the outbox. Call it with the transaction that makes the change the event
 * describes: both commit together or not at all (transactional outbox). One INSERT, one round
 * trip; the relay is woken by a NOTIFY that Postgres sends at commit. Returns the event id,
 * which is also the id of the job the relay publishes.
 */
export async function emit<T extends EventType>(
  tx: DbExecutor,
  workspaceId: WorkspaceId,
  type: T,
  payload: EventPayload<T>,
  opts: EmitOptions = {},
): Promise<string> {
  const [id] = await emitMany(tx, workspaceId, [{ type, payload }], opts);
  return id;
}

/** Several events of one workspace in one INSERT (same transaction rules as `emit`). */
export async function emitMany(
  tx: DbExecutor,
  workspaceId: WorkspaceId,
  list: readonly PendingEvent[],
  opts: EmitOptions = {},
): Promise<string[]> {
  if (!workspaceId) throw new Error('emit: a workspace id is required');
  if (list.length === 0) return [];
  const requestId = opts.requestId === undefined ? currentRequestId() : opts.requestId;
  const rows = list.map((e) => ({
    id: uuidv7(),
    workspaceId,
    type: e.type,
    payload: validate(e.type, e.payload),
    requestId,
    ...(opts.occurredAt ? { occurredAt: opts.occurredAt } : {}),
  }));
  await tx.insert(events).values(rows);
  return rows.map((r) => r.id);
}
