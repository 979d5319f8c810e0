import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ROLES, requireRole } from '../auth/principal.js';
import type { TokenStore } from '../auth/token-store.js';
import { parseDurationMs } from '../lib/duration.js';
import { RiskgateError } from '../lib/errors.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';

const ID = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'must be 1–64 characters of A–Z a–z 0–9 _ . : -' });
const CREATE_BODY = z
  .strictObject({
    name: z.string().trim().min(1).max(64),
    role: z.enum(ROLES),
    tenant: ID.optional(),
    regions: z.array(z.string().regex(/^\d{2,12}$/, { message: 'must be a GB/T 2260 code or prefix' })).min(1).max(50).optional(),
    device_id: ID.optional(),
    expires_in: z.string().optional(),
  })
  .superRefine((b, ctx) => {
    const need = (key: 'tenant' | 'regions' | 'device_id', yes: boolean): void => {
      const has = b[key] !== undefined;
      if (yes && !has) ctx.addIssue({ code: 'custom', path: [key], message: `required for role ${b.role}` });
      if (!yes && has) ctx.addIssue({ code: 'custom', path: [key], message: `not allowed for role ${b.role}` });
    };
    need('tenant', b.role === 'enterprise' || b.role === 'device');
    need('regions', b.role === 'operator');
    need('device_id', b.role === 'device');
    if (b.expires_in !== undefined && parseDurationMs(b.expires_in) === undefined) ctx.addIssue({ code: 'custom', path: ['expires_in'], message: 'must be a duration such as 30d or 12h' });
  });
const ID_PARAMS = z.strictObject({ id: z.string().regex(/^tok_[0-9a-f]{12}$/, { message: 'must be a token id (tok_…)' }) });

/**
 * API tokens: admins create and revoke any; an enterprise may create and revoke `device` tokens of its own tenant
 * (for HTTP ingest). The secret is in the creation response only.
 */
export async function tokenRoutes(app: FastifyInstance, opts: { tokens: TokenStore }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/api/v1/tokens', async (req) => {
    const p = requireRole(req, ['admin', 'enterprise']);
    const all = opts.tokens.list();
    return { tokens: p.role === 'admin' ? all : all.filter((t) => t.role === 'device' && t.tenant === p.tenant) };
  });

  r.post('/api/v1/tokens', { schema: { body: CREATE_BODY } }, async (req, reply) => {
    const p = requireRole(req, ['admin', 'enterprise']);
    const b = req.body;
    if (p.role === 'enterprise' && (b.role !== 'device' || b.tenant !== p.tenant)) {
      throw new RiskgateError('RG_ERR_AUTH_FORBIDDEN', 'an enterprise token may create only device tokens of its own tenant');
    }
    const { token, record } = opts.tokens.create({
      name: b.name,
      role: b.role,
      tenant: b.tenant,
      regions: b.regions,
      deviceId: b.device_id,
      expiresAt: b.expires_in ? Date.now() + (parseDurationMs(b.expires_in) as number) : undefined,
      createdBy: p.name,
    });
    req.log.info({ token: record.id, role: record.role, by: p.name }, 'API token created');
    return reply.status(201).send({ token, record });
  });

  r.delete('/api/v1/tokens/:id', { schema: { params: ID_PARAMS } }, async (req) => {
    const p = requireRole(req, ['admin', 'enterprise']);
    const { id } = req.params;
    const existing = opts.tokens.get(id);
    if (!existing || (p.role === 'enterprise' && (existing.role !== 'device' || existing.tenant !== p.tenant))) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no token ${id}`);
    const revoked = opts.tokens.revoke(id, p.name);
    req.log.info({ token: id, by: p.name }, 'API token revoked');
    return { record: revoked ?? existing };
  });
}
