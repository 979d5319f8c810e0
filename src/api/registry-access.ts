import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { canSee, type Principal, type Role, type Scoped } from '../auth/principal.js';
import { RiskgateError } from '../lib/errors.js';

/** Who may read registry records (each within its scope). Device tokens read nothing here. */
export const READERS: readonly Role[] = ['admin', 'operator', 'enterprise'];
/** Who may write devices and sites (an enterprise: its own tenant's only). */
export const TENANT_WRITERS: readonly Role[] = ['admin', 'enterprise'];
/** Who may write tenants and regions. */
export const ADMINS: readonly Role[] = ['admin'];

/** `limit` / `offset` paging of list routes. */
export const PAGE = { limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).default(0) };

/** One page of an already scope-filtered, ordered list. */
export function page<T>(items: readonly T[], q: { limit: number; offset: number }): { items: T[]; total: number; limit: number; offset: number } {
  return { items: items.slice(q.offset, q.offset + q.limit), total: items.length, limit: q.limit, offset: q.offset };
}

/**
 * A single resource outside the principal's scope answers exactly as a missing one (RG_ERR_API_NOT_FOUND, same
 * message): a 403 would tell an enterprise which of another enterprise's device ids exist.
 */
export function visibleOr404<T>(p: Principal, thing: T | undefined, scope: (t: T) => Scoped, what: string): T {
  if (thing === undefined || !canSee(p, scope(thing))) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no ${what}`);
  return thing;
}

/** Audit line of a registry change: actor = the token holder's name (Principal.name). */
export function audit(req: FastifyRequest, p: Principal, action: string, target: Record<string, unknown>): void {
  req.log.info({ audit: { action, actor: p.name, token: p.tokenId, role: p.role, ...target } }, `registry ${action} by ${p.name}`);
}

/** A field error in the shape parseRequest reports, for checks a schema cannot make (references). */
export function badField(field: string, message: string, rule = 'reference'): RiskgateError {
  return new RiskgateError('RG_ERR_API_BAD_REQUEST', `${field}: ${message}`, [{ field, rule, message }]);
}
