import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authorizePublish, authorizeSubscribe, type BrokerIdentity, type Decision } from '../broker/authorizer.js';
import { parseCredentialUsername, type CredentialStore } from '../registry/credentials.js';
import type { DeviceRegistry } from '../registry/device-registry.js';

/** Header carrying the shared secret (configure it under `headers` of both EMQX HTTP sources). */
export const BROKER_AUTH_SECRET_HEADER = 'x-riskgate-broker-secret';
/**
 * Paths EMQX calls. `/api/v1/broker/` is public to the bearer-token hook (src/auth/auth-hook.ts) and must be on the
 * rate limiter's allow list: EMQX asks on every connect, publish and subscribe, from one address. The shared secret
 * protects them.
 */
export const EMQX_AUTHN_PATH = '/api/v1/broker/emqx/authn';
export const EMQX_AUTHZ_PATH = '/api/v1/broker/emqx/authz';

export interface BrokerAuthRouteOptions {
  credentials: CredentialStore;
  registry: DeviceRegistry;
  /** Shared secret EMQX sends in `x-riskgate-broker-secret` (env BROKER_AUTH_SECRET). Missing or empty: every request is denied. */
  secret: string | undefined;
  /**
   * The gateway's own ingest client on the external broker (MQTT_USERNAME / MQTT_PASSWORD): authenticated here and
   * allowed to read `rg/v1/#` and write downlink topics. Without it, that username is denied like any unknown one.
   */
  ingest?: { username: string; password: string };
}

// EMQX renders its request template into JSON; other placeholders may be configured, so unknown keys are allowed.
const AUTHN_BODY = z.object({ username: z.string().min(1).max(256), password: z.string().min(1).max(1024), clientid: z.string().max(256) });
const AUTHZ_BODY = z.object({ username: z.string().min(1).max(256), topic: z.string().min(1).max(65_535), action: z.enum(['publish', 'subscribe']) });

type AuthnResult = { result: 'allow' | 'deny'; is_superuser: false };
type AuthzResult = { result: 'allow' | 'deny' };

/**
 * EMQX 5 HTTP authenticator and authorizer. The answer is always HTTP 200 with `allow` or `deny` — never `ignore`,
 * never 4xx/5xx: EMQX treats a non-200/204 status, or a body it cannot read, as `ignore` and moves on down its chain,
 * which fails open when nothing after us denies. So a bad secret, a malformed body and an internal error all answer
 * `200 {"result":"deny"}` (docs/broker-auth.md).
 */
export async function brokerAuthRoutes(app: FastifyInstance, opts: BrokerAuthRouteOptions): Promise<void> {
  const expected = opts.secret ? digest(opts.secret) : undefined;
  if (!expected) app.log.warn('BROKER_AUTH_SECRET is not set: the EMQX auth endpoints deny every request');

  // Encapsulated to this plugin: body-parser errors (415, 400, 413) and thrown errors become a deny, not a status.
  app.setErrorHandler((err, req, reply) => {
    req.log.error({ err, url: req.url }, 'broker auth request failed; answering deny');
    void reply.status(200).send({ result: 'deny' });
  });

  const authorized = (req: FastifyRequest): boolean => {
    const presented = req.headers[BROKER_AUTH_SECRET_HEADER];
    if (!expected || typeof presented !== 'string') return false;
    return timingSafeEqual(digest(presented), expected);
  };

  app.post(EMQX_AUTHN_PATH, async (req, reply): Promise<AuthnResult> => {
    const deny = (reason: string): AuthnResult => {
      req.log.info({ reason }, 'emqx authn: deny');
      return { result: 'deny', is_superuser: false };
    };
    if (!authorized(req)) return denySecret(reply, deny);
    const body = AUTHN_BODY.safeParse(req.body);
    if (!body.success) return deny('body must be {"username","password","clientid"}');
    const { username, password, clientid } = body.data;
    const ingest = opts.ingest;
    if (ingest && username === ingest.username) {
      return timingSafeEqual(digest(password), digest(ingest.password)) ? { result: 'allow', is_superuser: false } : deny('bad ingest password');
    }
    const ids = parseCredentialUsername(username);
    if (!ids) return deny('not a device username');
    // [MQTT-3.1.3-9] a device's client id is its own, so it cannot take over another client's session.
    if (clientid !== username && !clientid.startsWith(`${username}/`)) return deny('client id is not the device\'s own');
    const who = await opts.credentials.verify(username, password);
    if (!who) return deny('bad user name or password');
    if (!opts.registry.get(who.tenant, who.deviceId)) return deny('device is not registered');
    return { result: 'allow', is_superuser: false };
  });

  app.post(EMQX_AUTHZ_PATH, async (req, reply): Promise<AuthzResult> => {
    const deny = (reason: string): AuthzResult => {
      req.log.info({ reason }, 'emqx authz: deny');
      return { result: 'deny' };
    };
    if (!authorized(req)) return denySecret(reply, deny);
    const body = AUTHZ_BODY.safeParse(req.body);
    if (!body.success) return deny('body must be {"username","topic","action":"publish"|"subscribe"}');
    const { username, topic, action } = body.data;
    const identity = identityOf(username, opts);
    if (!identity) return deny('unknown, unregistered or revoked username');
    const decision: Decision = action === 'publish' ? authorizePublish(identity, topic) : authorizeSubscribe(identity, topic);
    return decision.ok ? { result: 'allow' } : deny(decision.reason);
  });
}

/** The identity behind an authenticated username, now: a revoked or unregistered device has none. */
function identityOf(username: string, opts: BrokerAuthRouteOptions): BrokerIdentity | undefined {
  if (opts.ingest && username === opts.ingest.username) return { role: 'ingest' };
  const ids = parseCredentialUsername(username);
  if (!ids || !opts.credentials.isActive(ids.tenant, ids.deviceId)) return undefined;
  const device = opts.registry.get(ids.tenant, ids.deviceId);
  return device ? { role: 'device', tenant: ids.tenant, deviceId: ids.deviceId, kind: device.kind } : undefined;
}

/** A missing or wrong secret is still answered 200 deny: a 401 would be `ignore` to EMQX. The header says why. */
function denySecret<T>(reply: FastifyReply, deny: (reason: string) => T): T {
  void reply.header('x-riskgate-deny-reason', 'secret');
  return deny('missing or wrong shared secret');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
