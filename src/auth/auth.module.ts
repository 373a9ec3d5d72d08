import { Global, Module } from '@nestjs/common';
import { WorkspacesModule } from '../modules/workspaces/workspaces.module';
import { APP_GUARD, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { AccessGuard } from './access.guard';
import { AccessTokens } from './access-tokens';
import { ApiKeyUsage } from './api-keys/api-key-usage';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { ApiKeysRepository } from './api-keys/api-keys.repository';
import { ApiKeysService } from './api-keys/api-keys.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { Authenticator } from './authenticator';
import { CredentialsRepository } from './credentials.repository';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
import { IdempotencyRepository } from './idempotency/idempotency.repository';
import { IdentityRepository } from './identity.repository';
import { LoginThrottle } from './login-throttle';
import { RouteAccessInspector } from './route-access';

/**
 * Identity and tenancy: the global access guard, sessions, API keys. Global so feature modules
 * can inject the Authenticator or IdentityRepository without importing it.
 */
@Global()
@Module({
  imports: [DiscoveryModule, WorkspacesModule],
  controllers: [AuthController, ApiKeysController],
  providers: [
    AccessTokens,
    Authenticator,
    CredentialsRepository,
    ApiKeyUsage,
    IdentityRepository,
    LoginThrottle,
    AuthService,
    ApiKeysRepository,
    ApiKeysService,
    RouteAccessInspector,
    IdempotencyRepository,
    { provide: APP_GUARD, useClass: AccessGuard },
    { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
  ],
  exports: [AccessTokens, Authenticator, IdentityRepository, AuthService, ApiKeysService, RouteAccessInspector],
})
export class AuthModule {}
