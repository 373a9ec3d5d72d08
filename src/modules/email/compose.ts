import type { OutgoingMail } from './mail-transport';
import { renderHtml, renderSubject, renderText, templateVariables, type TemplateContext } from './template-engine';

export interface TemplateParts {
  subject: string;
  html: string;
  text: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Renders a template for one lead. A marketing email always carries an unsubscribe link: when
 * a part does not use `{{unsubscribe_url}}`, a footer with the link is appended to it.
 */
export function renderTemplate(parts: TemplateParts, ctx: TemplateContext & { unsubscribe_url: string }): RenderedEmail {
  let html = renderHtml(parts.html, ctx);
  let text = renderText(parts.text, ctx);
  if (!templateVariables(parts.html).includes('unsubscribe_url')) {
    const footer = `<p style="font-size:12px;color:#666">Don't want these emails? <a href="${escapeAttr(ctx.unsubscribe_url)}">Unsubscribe</a>.</p>`;
    html = /<\/body>/i.test(html) ? html.replace(/<\/body>/i, `${footer}</body>`) : `${html}\n${footer}`;
  }
  if (!templateVariables(parts.text).includes('unsubscribe_url')) {
    text = `${text}\n\n--\nUnsubscribe: ${ctx.unsubscribe_url}\n`;
  }
  return { subject: renderSubject(parts.subject, ctx), html, text };
}

/** The message as the transport sends it, with RFC 8058 one-click unsubscribe headers. */
export function marketingMail(
  rendered: RenderedEmail,
  opts: { from: string; to: string; unsubscribeUrl: string; messageId?: string; headers?: Record<string, string> },
): OutgoingMail {
  return {
    from: opts.from,
    to: opts.to,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    messageId: opts.messageId,
    listUnsubscribeUrl: opts.unsubscribeUrl,
    headers: opts.headers,
  };
}
