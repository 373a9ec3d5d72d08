import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBody, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Access, Public } from '../common/decorators/access.decorator';
import { Auth, type AuthContext } from './auth-context';
import {
  LoginDto,
  LogoutDto,
  MeResponseDto,
  RefreshDto,
  RegisterDto,
  SessionResponseDto,
  SwitchWorkspaceDto,
} from './auth.schemas';
import { AuthService } from './auth.service';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('register')
  @ApiOperation({ summary: 'Create an account and its first workspace (as owner); returns a session' })
  @ApiResponse({ status: 201, type: SessionResponseDto })
  @ApiResponse({ status: 409, description: 'An account with this email already exists' })
  register(@Body() body: RegisterDto) {
    return this.auth.register(body);
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in; repeated failures answer 429 per account and per IP' })
  @ApiOkResponse({ type: SessionResponseDto })
  @ApiResponse({ status: 401, description: 'Wrong email or password (one answer for both)' })
  @ApiResponse({ status: 429, description: 'Too many failed attempts; see Retry-After' })
  login(@Body() body: LoginDto, @Req() request: FastifyRequest) {
    return this.auth.login(body, request.ip);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a refresh token for a new pair; a reused token revokes its whole session' })
  @ApiOkResponse({ type: SessionResponseDto })
  refresh(@Body() body: RefreshDto) {
    return this.auth.refresh(body.refresh_token);
  }

  @Access()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'End the current session (its refresh tokens and access tokens stop working)' })
  @ApiBody({ type: LogoutDto, required: false })
  @ApiNoContentResponse()
  async logout(@Auth() auth: AuthContext, @Body() body: LogoutDto | undefined) {
    await this.auth.logout(auth, body?.refresh_token);
  }

  @Access()
  @Get('me')
  @ApiOperation({ summary: 'Who is calling: user (or API key), current workspace, role and scopes' })
  @ApiOkResponse({ type: MeResponseDto })
  me(@Auth() auth: AuthContext) {
    return this.auth.me(auth);
  }

  @Access()
  @Post('switch-workspace')
  @HttpCode(200)
  @ApiOperation({ summary: 'Tokens for another workspace the user is a member of' })
  @ApiOkResponse({ type: SessionResponseDto })
  switchWorkspace(@Auth() auth: AuthContext, @Body() body: SwitchWorkspaceDto) {
    return this.auth.switchWorkspace(auth, body.workspace_id);
  }
}
