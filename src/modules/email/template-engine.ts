// Templates: mustache.js (logic-less, HTML-escaping by default). We restrict it to variables and
// sections over known variables, and validate every tag when a template is saved.
import { LRUCache } from 'lru-cache';
import Mustache from 'mustache';
import { CUSTOM_FIELD_KEY } from '../leads/lead-normalization';

/** Variables a template may use. `lead.custom.<key>` reads a custom field. */
export const TEMPLATE_VARIABLES = [
  'lead.email',
  'lead.first_name',
  'lead.last_name',
  'lead.full_name',
  'lead.company',
  'lead.phone',
  'lead.source',
  'campaign.name',
  'workspace.name',
  'unsubscribe_url',
] as const;
const KNOWN = new Set<string>(TEMPLATE_VARIABLES);

export function isKnownVariable(name: string, extra: readonly string[] = []): boolean {
  if (KNOWN.has(name) || extra.includes(name)) return true;
  return name.startsWith('lead.custom.') && CUSTOM_FIELD_KEY.test(name.slice('lead.custom.'.length));
}

export interface TemplateProblem {
  part: string;
  message: string;
}

type Token = [string, string, number, number, Token[]?, ...unknown[]];

// The writer's parse cache is bounded (one entry per distinct template text).
const writer = new Mustache.Writer();
(writer as unknown as { templateCache: unknown }).templateCache = new LRUCache<string, string>({ max: 500 });

function walk(tokens: Token[], part: string, extra: readonly string[], problems: TemplateProblem[]): void {
  for (const token of tokens) {
    const [kind, value] = token;
    switch (kind) {
      case 'text':
      case '!':
        break;
      case 'name':
      case '#':
      case '^':
        if (!isKnownVariable(value, extra)) problems.push({ part, message: `Unknown variable {{${value}}}` });
        if (kind !== 'name') walk(token[4] ?? [], part, extra, problems);
        break;
      case '&':
      case '{':
        problems.push({ part, message: `Unescaped output {{{${value}}}} / {{& ${value}}} is not allowed; use {{${value}}}` });
        break;
      case '>':
        problems.push({ part, message: `Partials ({{> ${value}}}) are not supported` });
        break;
      case '=':
        problems.push({ part, message: 'Changing delimiters is not supported' });
        break;
      default:
        problems.push({ part, message: `Unsupported tag ${kind}` });
    }
  }
}

/** Every problem of a template part: syntax errors, unknown variables, unsupported tags. */
export function templateProblems(part: string, source: string, extraVariables: readonly string[] = []): TemplateProblem[] {
  let tokens: Token[];
  try {
    tokens = writer.parse(source) as Token[];
  } catch (err) {
    return [{ part, message: (err as Error).message }];
  }
  const problems: TemplateProblem[] = [];
  walk(tokens, part, extraVariables, problems);
  return problems;
}

/** Names of the variables a template uses (for documentation and previews). */
export function templateVariables(source: string): string[] {
  const out = new Set<string>();
  const visit = (tokens: Token[]) => {
    for (const t of tokens) {
      if (t[0] === 'name' || t[0] === '#' || t[0] === '^') out.add(t[1]);
      if (t[4]) visit(t[4]);
    }
  };
  visit(writer.parse(source) as Token[]);
  return [...out];
}

export interface TemplateLead {
  email: string;
  first_name?: string | null;
  last_name?: string | null;
  company?: string | null;
  phone?: string | null;
  source?: string | null;
  custom_fields?: Record<string, unknown>;
}

export interface TemplateContext {
  lead: TemplateLead;
  campaign?: { name: string } | null;
  workspace?: { name: string } | null;
  unsubscribe_url?: string;
  [extra: string]: unknown;
}

function view(ctx: TemplateContext): Record<string, unknown> {
  const l = ctx.lead;
  const full = [l.first_name, l.last_name].filter((s) => s && s.trim()).join(' ');
  const custom: Record<string, string> = {};
  for (const [k, v] of Object.entries(l.custom_fields ?? {})) {
    custom[k] = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
  }
  return {
    ...ctx,
    lead: {
      email: l.email,
      first_name: l.first_name ?? '',
      last_name: l.last_name ?? '',
      full_name: full,
      company: l.company ?? '',
      phone: l.phone ?? '',
      source: l.source ?? '',
      custom,
    },
    campaign: { name: ctx.campaign?.name ?? '' },
    workspace: { name: ctx.workspace?.name ?? '' },
    unsubscribe_url: ctx.unsubscribe_url ?? '',
  };
}

const identity = (v: unknown) => String(v);

/** Renders HTML: every variable is HTML-escaped. */
export function renderHtml(source: string, ctx: TemplateContext): string {
  return writer.render(source, view(ctx), undefined, { escape: Mustache.escape });
}

/** Renders plain text (no escaping). */
export function renderText(source: string, ctx: TemplateContext): string {
  return writer.render(source, view(ctx), undefined, { escape: identity });
}

/** Renders a subject: plain text on one line (a stray newline from a value cannot inject a header). */
export function renderSubject(source: string, ctx: TemplateContext): string {
  return renderText(source, ctx)
    .replace(/[\r\n\t]+/g, ' ')
    .trim();
}
