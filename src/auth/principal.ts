import type { FastifyRequest } from 'fastify';
import { RiskgateError } from '../lib/errors.js';

/** Roles of API tokens (ARCHITECTURE.md registry). */
export const ROLES = ['admin', 'operator', 'enterprise', 'device'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who is calling, resolved from the bearer token by the auth hook and attached to the request as `req.principal`.
 * Scope: an operator sees the region subtrees listed (GB/T 2260 code prefixes); an enterprise its own tenant; a
 * device only itself (HTTP ingest).
 */
export interface Principal {
  role: Role;
  /** Token id (`tok_…`) or `bootstrap`. */
  tokenId: string;
  /** Human-readable name of the token holder; the actor recorded in audit trails. */
  name: string;
  /** enterprise and device tokens. */
  tenant?: string;
  /** operator tokens: region code prefixes, e.g. ['5101'] = all of Chengdu. */
  regions?: string[];
  /** device tokens. */
  deviceId?: string;
}

/** Something scoped: a device, an alert, a tenant record, a dead letter. */
export interface Scoped {
  tenant?: string | null;
  region?: string | null;
  deviceId?: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every /api route; undefined only on public routes (/healthz, /readyz, /metrics). */
    principal?: Principal;
  }
}

/** True when the principal may see the thing. Deny by default: unknown role or missing scope data → false. */
export function canSee(p: Principal, s: Scoped): boolean {
  switch (p.role) {
    case 'admin':
      return true;
    case 'operator': {
      const region = s.region ?? '';
      return region !== '' && (p.regions ?? []).some((prefix) => region.startsWith(prefix));
    }
    case 'enterprise':
      return p.tenant !== undefined && s.tenant === p.tenant;
    case 'device':
      return p.tenant !== undefined && s.tenant === p.tenant && s.deviceId === p.deviceId;
    default:
      return false;
  }
}

/** The principal of a request, or RG_ERR_AUTH_REQUIRED. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new RiskgateError('RG_ERR_AUTH_REQUIRED', 'a bearer token is required');
  return req.principal;
}

/** Throws RG_ERR_AUTH_FORBIDDEN unless the request's principal has one of the roles. */
export function requireRole(req: FastifyRequest, roles: readonly Role[]): Principal {
  const p = principalOf(req);
  if (!roles.includes(p.role)) throw new RiskgateError('RG_ERR_AUTH_FORBIDDEN', `role ${p.role} may not do this (needs ${roles.join(' or ')})`);
  return p;
}

/** Throws RG_ERR_AUTH_FORBIDDEN unless the principal may see the thing (used for single resources and writes). */
export function requireScope(p: Principal, s: Scoped, what: string): void {
  if (!canSee(p, s)) throw new RiskgateError('RG_ERR_AUTH_FORBIDDEN', `${what} is outside the scope of this token`);
}

/** Alerts: gateway-level alerts (no tenant, no region) are for the monitoring centre: admins and operators. */
export function canSeeAlert(p: Principal, a: { kind: string; tenant: string; region: string | null; device_id: string }): boolean {
  if (a.kind === 'gateway') return p.role === 'admin' || p.role === 'operator';
  return canSee(p, { tenant: a.tenant, region: a.region, deviceId: a.device_id });
}
