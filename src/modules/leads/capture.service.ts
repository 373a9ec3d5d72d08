import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { asWorkspaceId, type AuthContext, type WorkspaceId } from '../../auth/auth-context';
import { Authenticator, presentedCredential, unauthenticated } from '../../auth/authenticator';
import { originAllowed } from '../../auth/origins';
import { DomainError } from '../../common/errors/domain-error';
import { zodIssuesToFieldErrors } from '../../common/errors/problem';
import { ROOT_LOGGER } from '../../observability/root-logger';
import { EmailLinkTokens } from '../email/email-tokens';
import { CaptureThrottle } from './capture-throttle';
import { captureBodySchema, HONEYPOT_FIELD } from './capture.schemas';
import type { CustomFields } from './lead-normalization';
import { LeadsRepository } from './leads.repository';
import { LeadsService } from './leads.service';
import type { LeadInput } from './leads.schemas';

const CORS_HEADERS = {
  allowMethods: 'POST, OPTIONS',
  allowHeaders: 'authorization, content-type, x-api-key, idempotency-key, x-request-id',
  expose: 'x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset',
};

/**
 * The public capture endpoint: a publishable key (header, `?key=` or a `key` form field),
 * CORS from the key's allowed origins, honeypot, per-IP and per-email limits, then the same
 * create-or-merge as the API (one statement; the event goes through the outbox) and a fast 202.
 * The answer is the same whether the address was new or known, so the endpoint cannot be
 * used to find out who is on the list.
 */
@Injectable()
export class CaptureService {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly throttle: CaptureThrottle,
    private readonly leads: LeadsService,
    private readonly repo: LeadsRepository,
    private readonly tokens: EmailLinkTokens,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  private credentialOf(request: FastifyRequest): string | undefined {
    const fromHeader = presentedCredential(request);
    if (fromHeader) return fromHeader;
    const query = request.query as Record<string, unknown> | undefined;
    if (typeof query?.key === 'string') return query.key;
    const body = request.body as Record<string, unknown> | undefined;
    if (body && typeof body === 'object' && typeof body.key === 'string') return body.key;
    return undefined;
  }

  /** A publishable key holding `leads:capture`; browser calls must come from one of its origins. */
  async authenticate(request: FastifyRequest, reply: FastifyReply): Promise<AuthContext> {
    const credential = this.credentialOf(request);
    if (!credential) throw unauthenticated();
    const auth = await this.authenticator.authenticate(credential);
    if (auth.keyKind !== 'publishable' || !auth.scopes.has('leads:capture')) {
      throw new DomainError('forbidden', 'The capture route takes a publishable key (sb_pk_…) with the leads:capture scope');
    }
    const origin = request.headers.origin;
    if (origin) {
      if (!originAllowed(auth, origin)) throw new DomainError('forbidden', 'This origin is not allowed for this publishable key');
      reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', CORS_HEADERS.expose);
      reply.header('vary', 'Origin');
    }
    return auth;
  }

  /**
   * CORS preflight of the capture route. With `?key=` the key's allowed origins decide; a
   * preflight without the key (it travels in a header the browser does not send here) is
   * answered for any origin, and the POST itself enforces the key's origins.
   */
  async preflight(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const origin = request.headers.origin;
    reply.header('vary', 'Origin');
    if (!origin) return;
    const key = (request.query as Record<string, unknown> | undefined)?.key;
    if (typeof key === 'string') {
      const auth = await this.authenticator.authenticate(key).catch(() => null);
      if (!auth || auth.keyKind !== 'publishable' || !originAllowed(auth, origin)) return;
    }
    reply
      .header('access-control-allow-origin', origin)
      .header('access-control-allow-methods', CORS_HEADERS.allowMethods)
      .header('access-control-allow-headers', CORS_HEADERS.allowHeaders)
      .header('access-control-max-age', '600');
  }

  async capture(request: FastifyRequest, ws: WorkspaceId): Promise<void> {
    const raw = (request.body ?? {}) as Record<string, unknown>;
    if (typeof raw !== 'object' || Array.isArray(raw))
      throw new DomainError('bad_request', 'The body must be an object or a form');
    // Bots fill every field: accept silently, store nothing.
    const trap = raw[HONEYPOT_FIELD];
    if (typeof trap === 'string' && trap.trim() !== '') {
      this.log.info({ workspace_id: ws, request_id: request.id }, 'capture honeypot triggered; ignored');
      await this.throttle.consumeIp(request.ip);
      return;
    }
    await this.throttle.consumeIp(request.ip);
    const parsed = captureBodySchema.safeParse(raw);
    if (!parsed.success) {
      const errors = zodIssuesToFieldErrors(parsed.error.issues);
      throw new DomainError(
        'validation_failed',
        `The capture is invalid: ${errors.map((e) => e.path || '(body)').join(', ')}`,
        errors,
      );
    }
    const body = parsed.data;
    await this.throttle.consumeEmail(ws, body.email);

    const custom: CustomFields = { ...(body.custom_fields ?? {}) };
    for (const [k, v] of Object.entries(body)) if (k.startsWith('custom.') && typeof v === 'string') custom[k.slice(7)] = v;
    const input: LeadInput = {
      email: body.email,
      first_name: body.first_name,
      last_name: body.last_name,
      phone: body.phone,
      company: body.company,
      source: body.source,
      tags: body.tags,
      custom_fields: Object.keys(custom).length ? custom : undefined,
      utm_source: body.utm_source,
      utm_medium: body.utm_medium,
      utm_campaign: body.utm_campaign,
      utm_term: body.utm_term,
      utm_content: body.utm_content,
    };
    const settings = await this.repo.settings(ws);
    const wording = body.consent_wording;
    const consentOverride = settings.doubleOptIn
      ? { status: 'pending' as const, ip: request.ip, wording }
      : body.consent
        ? { status: 'granted' as const, ip: request.ip, wording }
        : undefined;
    await this.leads.createOrMerge(ws, input, { via: 'capture', consentOverride });
  }

  async confirm(token: string, ip: string): Promise<{ ok: boolean; redirect: string | null }> {
    const payload = this.tokens.verify(token, 'confirm');
    if (!payload) return { ok: false, redirect: null };
    const ws = asWorkspaceId(payload.workspaceId);
    const ok = await this.leads.confirm(ws, payload.leadId, ip);
    const settings = await this.repo.settings(ws);
    return { ok, redirect: ok ? settings.confirmationRedirectUrl : null };
  }

  verifyConfirmToken(token: string): boolean {
    return this.tokens.verify(token, 'confirm') !== null;
  }
}
