import { Module } from '@nestjs/common';
import { MembersController } from './members.controller';
import { MembersRepository } from './members.repository';
import { MembersService } from './members.service';

/** The current workspace's members (the AuthModule, global, provides identity and sessions). */
@Module({ controllers: [MembersController], providers: [MembersRepository, MembersService] })
export class WorkspacesModule {}
