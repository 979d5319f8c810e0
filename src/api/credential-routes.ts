import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSee, requireRole } from '../auth/principal.js';
import { RiskgateError } from '../lib/errors.js';
import type { CredentialStore } from '../registry/credentials.js';
import type { DeviceRegistry } from '../registry/device-registry.js';

const SEGMENT = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'must be 1–64 characters of A–Z a–z 0–9 _ . -' });
const PARAMS = z.strictObject({ tenant: SEGMENT, deviceId: SEGMENT });

/**
 * Device MQTT credentials: `POST …/credentials` issues a new password (shown once; any previous one stops working at
 * once and the device's live session is cut), `DELETE` revokes it, `GET` says whether one is active. Admins, and an
 * enterprise for its own devices.
 */
export async function credentialRoutes(app: FastifyInstance, opts: { credentials: CredentialStore; registry: DeviceRegistry }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const device = (tenant: string, deviceId: string, role: ReturnType<typeof requireRole>) => {
    const d = opts.registry.get(tenant, deviceId);
    if (!d || !canSee(role, { tenant, region: d.region, deviceId })) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no device ${tenant}/${deviceId}`);
    return d;
  };

  r.get('/api/v1/devices/:tenant/:deviceId/credentials', { schema: { params: PARAMS } }, async (req) => {
    const p = requireRole(req, ['admin', 'enterprise']);
    device(req.params.tenant, req.params.deviceId, p);
    return { active: opts.credentials.isActive(req.params.tenant, req.params.deviceId) };
  });

  r.post('/api/v1/devices/:tenant/:deviceId/credentials', { schema: { params: PARAMS } }, async (req, reply) => {
    const p = requireRole(req, ['admin', 'enterprise']);
    const { tenant, deviceId } = req.params;
    device(tenant, deviceId, p);
    const issued = opts.credentials.issue(tenant, deviceId, { replace: true });
    req.log.info({ device: `${tenant}/${deviceId}`, by: p.name }, 'device credential issued');
    // MQTT client id: the username itself (or username/<suffix>): the broker refuses other ids for a device login.
    return reply.status(201).send({ username: issued.username, password: issued.password, client_id: issued.username });
  });

  r.delete('/api/v1/devices/:tenant/:deviceId/credentials', { schema: { params: PARAMS } }, async (req) => {
    const p = requireRole(req, ['admin', 'enterprise']);
    const { tenant, deviceId } = req.params;
    device(tenant, deviceId, p);
    if (!opts.credentials.revoke(tenant, deviceId)) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no active credential for ${tenant}/${deviceId}`);
    req.log.info({ device: `${tenant}/${deviceId}`, by: p.name }, 'device credential revoked');
    return { revoked: true };
  });
}
