import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';
import { PinoNestLogger } from './nest-logger';

function capture(level = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level, destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
  return { lines, nest: new PinoNestLogger(log) };
}

describe('PinoNestLogger', () => {
  it("maps Nest's (message, context) and error (message, stack, context) calls to pino lines", () => {
    const { lines, nest } = capture();
    nest.log('Nest application successfully started', 'NestApplication');
    nest.error('boom', 'Error: boom\n    at x', 'ExceptionHandler');
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'Nest application successfully started', context: 'NestApplication' });
    expect(lines[1]).toMatchObject({ level: 'error', msg: 'boom', context: 'ExceptionHandler', stack: 'Error: boom\n    at x' });
  });

  it('logs an Error as err and drops levels below the configured one', () => {
    const { lines, nest } = capture('warn');
    nest.debug('hidden', 'Ctx');
    nest.log('hidden too');
    nest.warn(new Error('careful'), 'Ctx');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'careful', context: 'Ctx', err: { message: 'careful' } });
  });
});
