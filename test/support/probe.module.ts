import { Body, Controller, Get, Module, Post, Query } from '@nestjs/common';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { Public } from '../../src/common/decorators/access.decorator';
import { paginationQuery } from '../../src/common/http/pagination';

class EchoDto extends createZodDto(z.strictObject({ name: z.string().min(1), count: z.number().int().optional() })) {}

/** Test-only routes that provoke each error path of the platform. */
@Controller('__probe')
class ProbeController {
  @Public()
  @Post('echo')
  echo(@Body() body: EchoDto) {
    return body;
  }

  @Public()
  @Get('boom')
  boom(): never {
    throw new Error('secret internal detail: db password is hunter2');
  }

  @Public()
  @Get('slow')
  async slow(@Query('ms') ms = '500') {
    await new Promise((r) => setTimeout(r, Number(ms)));
    return { done: true };
  }

  @Public()
  @Get('page')
  page() {
    return paginationQuery.parse({ limit: '100000' });
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
