import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { Auth, type AuthContext } from '../../auth/auth-context';
import { IdParam } from '../../auth/id-param';
import { Access } from '../../common/decorators/access.decorator';
import { paginationQuery } from '../../common/http/pagination';
import { AddMemberDto, MemberDto, MemberPageDto, UpdateMemberDto } from './members.schemas';
import { MembersService } from './members.service';

class PageQueryDto extends createZodDto(paginationQuery) {}

@ApiTags('workspaces')
@Controller('workspaces/current/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Access('members:manage')
  @Get()
  @ApiOperation({ summary: 'Members of the current workspace (owner/admin)' })
  @ApiOkResponse({ type: MemberPageDto })
  list(@Auth() auth: AuthContext, @Query() query: PageQueryDto) {
    return this.members.list(auth, query);
  }

  @Access('members:manage')
  @Post()
  @ApiOperation({ summary: 'Add an existing user by email (owner/admin; only an owner can add an owner)' })
  @ApiResponse({ status: 201, type: MemberDto })
  @ApiResponse({ status: 404, description: 'No user with this email' })
  @ApiResponse({ status: 409, description: 'Already a member' })
  add(@Auth() auth: AuthContext, @Body() body: AddMemberDto) {
    return this.members.add(auth, body.email, body.role);
  }

  @Access('members:manage')
  @Patch(':user_id')
  @ApiOperation({ summary: "Change a member's role (owner/admin; owner role changes need an owner)" })
  @ApiOkResponse({ type: MemberDto })
  update(@Auth() auth: AuthContext, @Param('user_id', IdParam) userId: string, @Body() body: UpdateMemberDto) {
    return this.members.update(auth, userId, body.role);
  }

  @Access('members:manage')
  @Delete(':user_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a member (owner/admin); the last owner cannot be removed' })
  @ApiNoContentResponse()
  async remove(@Auth() auth: AuthContext, @Param('user_id', IdParam) userId: string) {
    await this.members.remove(auth, userId);
  }
}
