import { Injectable } from '@nestjs/common';
import type { AuthContext, WorkspaceId } from '../../auth/auth-context';
import { EndpointsService } from '../webhooks/outbound/endpoints.service';
import { sampleBody } from '../webhooks/outbound/event-types';

/**
 * Zapier REST hooks on the outbound engine: a subscription is an endpoint of kind `zapier`
 * (signed, retried and SSRF-checked like any other), listening to one event type. When a Zap
 * is turned off Zapier answers 410 to posts: the hook is then disabled (unsubscribed).
 */
@Injectable()
export class ZapierService {
  constructor(private readonly endpoints: EndpointsService) {}

  async subscribe(workspaceId: WorkspaceId, targetUrl: string, event: string) {
    const created = await this.endpoints.create(
      workspaceId,
      { url: targetUrl, event_types: [event], description: `Zapier: ${event}` },
      'zapier',
    );
    return { id: created.id, target_url: created.url, event, enabled: created.enabled, created_at: created.created_at };
  }

  async unsubscribe(workspaceId: WorkspaceId, id: string): Promise<void> {
    await this.endpoints.delete(workspaceId, id, 'zapier');
  }

  /** performList: a list shaped like the hook payload, newest first (three samples). */
  samples(workspaceId: WorkspaceId, event: string) {
    return [0, 1, 2].map((i) => {
      const at = new Date(Date.UTC(2026, 0, 15, 10, 30 - i * 5)).toISOString();
      const id = `01890a5d-ac96-774b-bcce-b302099a805${7 - i}`;
      return sampleBody(event, workspaceId, id, at);
    });
  }

  me(auth: AuthContext) {
    return {
      workspace_id: auth.workspaceId,
      kind: auth.kind,
      user_id: auth.userId,
      api_key_id: auth.apiKeyId,
      scopes: [...auth.scopes].sort(),
      label: auth.kind === 'api_key' ? `API key ${auth.apiKeyId?.slice(0, 8) ?? ''}` : `User ${auth.userId?.slice(0, 8) ?? ''}`,
    };
  }
}
