import { getTableColumns, getTableName, type InferSelectModel } from 'drizzle-orm';
import { toSnakeCase } from 'drizzle-orm/casing';
import type { PgTable } from 'drizzle-orm/pg-core';

/** Reads whole rows of a drizzle table with hand-written SQL. */
export interface TableReader<T extends PgTable> {
  /** The table's SQL name. */
  table: string;
  /** Every column, aliased to its drizzle key: `"first_name" as "firstName", …`. */
  columns: string;
  /** A raw `pg` row (selected with `columns`) → the shape `db.select().from(table)` returns. */
  row(raw: Record<string, unknown>): InferSelectModel<T>;
}

/**
 * For hot paths that run as named prepared statements on the `pg` pool: drizzle builds its SQL
 * text anew on every call (~100 µs per select in the delivery profile), and its statements are
 * not prepared. The column list comes from the drizzle schema, so a new column is picked up,
 * and each value goes through the column's own driver mapping, as drizzle does.
 */
export function tableReader<T extends PgTable>(table: T): TableReader<T> {
  const cols = Object.entries(getTableColumns(table));
  return {
    table: getTableName(table),
    // Columns declared without a name take their key, snake_cased like the app's drizzle instance (casing: 'snake_case').
    columns: cols.map(([key, col]) => `"${col.keyAsName ? toSnakeCase(col.name) : col.name}" as "${key}"`).join(', '),
    row(raw) {
      for (const [key, col] of cols) {
        const value = raw[key];
        if (value !== null && value !== undefined) raw[key] = col.mapFromDriverValue(value);
      }
      return raw as InferSelectModel<T>;
    },
  };
}
