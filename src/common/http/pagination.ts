import { z } from 'zod';
import { DomainError } from '../errors/domain-error';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

/** `limit` is clamped (never rejected) to 1..200; `cursor` is an opaque string. */
export const paginationQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .catch(DEFAULT_PAGE_LIMIT)
    .transform((n) => Math.min(Math.max(n, 1), MAX_PAGE_LIMIT))
    .default(DEFAULT_PAGE_LIMIT),
  cursor: z.string().max(512).optional(),
});
export type PaginationQuery = z.infer<typeof paginationQuery>;

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Cursors are base64url JSON of the sort key of the last row; opaque to callers. */
export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T extends Record<string, unknown>>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (!cursor) return undefined;
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new DomainError('bad_request', 'The cursor is invalid', [{ path: 'cursor', message: 'Invalid cursor' }]);
  }
}

/**
 * Builds a page from `limit + 1` fetched rows: the extra row only tells whether another page
 * exists, and the cursor points after the last returned row.
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (r: R) => T,
  cursorOf: (r: R) => Record<string, string | number>,
): Page<T> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  return {
    data: pageRows.map(map),
    next_cursor: hasMore ? encodeCursor(cursorOf(pageRows[pageRows.length - 1])) : null,
  };
}
