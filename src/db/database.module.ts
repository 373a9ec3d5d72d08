import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Database } from './database';

export const DATABASE = Symbol('DATABASE');
export const DRIZZLE = Symbol('DRIZZLE');

/** The database is opened before Nest starts (migrations first) and handed in here. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(database: Database): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: DATABASE, useValue: database },
        { provide: DRIZZLE, useValue: database.db },
      ],
      exports: [DATABASE, DRIZZLE],
    };
  }
}
