import { timestamp, uuid } from 'drizzle-orm/pg-core';
import { uuidv7 } from 'uuidv7';

/** UUIDv7 primary key generated in the app: time-ordered, so it doubles as a cursor. */
export const idColumn = () =>
  uuid()
    .primaryKey()
    .$defaultFn(() => uuidv7());
export const createdAt = () => timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow();
export const updatedAt = () => timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow();
