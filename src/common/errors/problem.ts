import { HttpException } from '@nestjs/common';
import { ZodValidationException } from 'nestjs-zod';
import type { z } from 'zod';
import { DomainError, ERROR_CODES, type ErrorCode, type FieldError } from './domain-error';

/** RFC 9457 problem details, as every error leaves the API. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  request_id: string;
  code: string;
  errors?: FieldError[];
}

export interface ProblemResponse {
  status: number;
  body: ProblemDetails;
  headers: Record<string, string>;
  /** True when the error is ours (5xx): logged with its id, details hidden from the caller. */
  unexpected: boolean;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://switchboard.dev/problems/';

// First code listed for a status wins (bad_request for 400, not validation_failed).
const STATUS_CODES: Record<number, ErrorCode> = {};
for (const [code, { status }] of Object.entries(ERROR_CODES)) STATUS_CODES[status] ??= code as ErrorCode;

function codeForStatus(status: number): ErrorCode {
  return STATUS_CODES[status] ?? (status >= 500 ? 'internal' : 'bad_request');
}

export function zodIssuesToFieldErrors(issues: z.core.$ZodIssue[]): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: base ? `${base}.${key}` : key, message: 'Unknown property', code: 'unrecognized_key' });
    } else {
      out.push({ path: base, message: issue.message, code: issue.code });
    }
  }
  return out;
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
  headers?: Record<string, string>;
}

function fromFastifyError(err: FastifyLikeError): { code: ErrorCode; detail: string } | undefined {
  const status = err.statusCode;
  if (!status || status < 400 || status >= 500) return undefined;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'payload_too_large', detail: 'The request body is larger than the allowed limit' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'unsupported_media_type', detail: err.message ?? 'Unsupported content type' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'bad_request', detail: 'The JSON body is empty' };
    default:
      return { code: codeForStatus(status), detail: err.message ?? ERROR_CODES[codeForStatus(status)].title };
  }
}

/** Maps any thrown value to a problem response. The single place errors become HTTP. */
export function toProblem(err: unknown, requestId: string, instance: string): ProblemResponse {
  let code: ErrorCode = 'internal';
  let detail = 'An unexpected error occurred. Quote the request id when reporting it.';
  let errors: FieldError[] | undefined;
  let headers: Record<string, string> = {};
  let status: number | undefined;

  if (err instanceof DomainError) {
    code = err.code;
    detail = err.message;
    errors = err.errors;
    headers = err.headers ?? {};
  } else if (err instanceof ZodValidationException) {
    code = 'validation_failed';
    errors = zodIssuesToFieldErrors((err.getZodError() as z.ZodError).issues);
    detail = `The request is invalid: ${errors.map((e) => e.path || '(body)').join(', ')}`;
  } else if (err instanceof HttpException) {
    status = err.getStatus();
    code = codeForStatus(status);
    const response = err.getResponse();
    const message =
      typeof response === 'string' ? response : ((response as { message?: string | string[] }).message ?? err.message);
    detail = Array.isArray(message) ? message.join('; ') : String(message);
  } else if (err && typeof err === 'object') {
    const mapped = fromFastifyError(err);
    if (mapped) {
      status = (err as FastifyLikeError).statusCode;
      ({ code, detail } = mapped);
      headers = (err as FastifyLikeError).headers ?? {};
    }
  }

  status ??= ERROR_CODES[code].status;
  const unexpected = status >= 500 && !(err instanceof DomainError);
  if (unexpected) detail = 'An unexpected error occurred. Quote the request id when reporting it.';
  const title = ERROR_CODES[code]?.title ?? 'Error';
  const body: ProblemDetails = {
    type: `${TYPE_BASE}${code}`,
    title,
    status,
    detail,
    instance,
    request_id: requestId,
    code,
    ...(errors?.length ? { errors } : {}),
  };
  return { status, body, headers, unexpected };
}
