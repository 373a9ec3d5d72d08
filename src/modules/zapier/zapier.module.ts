import { Module } from '@nestjs/common';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { MeController, ZapierController } from './zapier.controller';
import { ZapierService } from './zapier.service';

/** Zapier REST hooks, samples and the `/me` connection test. See docs/webhooks.md. */
@Module({
  imports: [WebhooksModule],
  controllers: [ZapierController, MeController],
  providers: [ZapierService],
})
export class ZapierModule {}
