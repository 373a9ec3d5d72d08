import { Injectable, type PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { DomainError } from '../common/errors/domain-error';

const uuid = z.uuid();

/**
 * Path ids: anything that is not a UUID cannot name a row, so it is a 404 like any other id
 * the caller cannot see (never a 500 from the database's uuid cast).
 * Usage: `@Param('id', IdParam) id: string`.
 */
@Injectable()
export class IdParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!uuid.safeParse(value).success) throw new DomainError('not_found', 'Resource not found');
    return value.toLowerCase();
  }
}
