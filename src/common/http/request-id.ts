import type { IncomingMessage } from 'node:http';
import { uuidv7 } from 'uuidv7';

const REQUEST_ID = Symbol('switchboard.requestId');
// Accept a caller's id only when it is short and printable, so it is safe in logs and headers.
const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type WithId = IncomingMessage & { [REQUEST_ID]?: string };

/**
 * The request id for a raw request: the caller's `X-Request-Id` when valid, otherwise a new
 * UUIDv7. Memoised on the request so Fastify, the logger and the error filter agree.
 */
export function requestIdFor(raw: IncomingMessage): string {
  const req = raw as WithId;
  if (!req[REQUEST_ID]) {
    const header = raw.headers['x-request-id'];
    const given = Array.isArray(header) ? header[0] : header;
    req[REQUEST_ID] = given && VALID_ID.test(given) ? given : uuidv7();
  }
  return req[REQUEST_ID];
}
