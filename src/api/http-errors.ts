import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { formatPath } from '../config/yaml-file.js';
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { RiskgateError } from '../lib/errors.js';
import type { Metrics } from '../lib/metrics.js';

/**
 * Parses a value with zod or throws RG_ERR_API_BAD_REQUEST naming each field and rule. Routes declare their schemas
 * through fastify-type-provider-zod instead; this is for payloads parsed by hand (CSV rows, JSON inside a field).
 */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, part: 'query' | 'params' | 'body'): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => ({ field: `${part}.${formatPath(i.path)}`, rule: i.code, message: i.message }));
  throw new RiskgateError('RG_ERR_API_BAD_REQUEST', problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
}

/** Every error leaves as `{ error: { code, message, details? } }` — never a stack trace. */
export function installErrorHandler(app: FastifyInstance, metrics?: Metrics): void {
  const count = (code: string): void => metrics?.httpRejects.inc({ code });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const part = err.validationContext === 'querystring' ? 'query' : (err.validationContext ?? 'body');
      const problems = err.validation.map((v) => {
        const path = v.instancePath.split('/').filter(Boolean).map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`)).join('');
        return { field: `${part}${path}`, rule: v.keyword, message: v.message ?? 'invalid' };
      });
      count('RG_ERR_API_BAD_REQUEST');
      void reply.status(400).send({ error: { code: 'RG_ERR_API_BAD_REQUEST', message: problems.map((p) => `${p.field}: ${p.message}`).join('; '), details: problems } });
      return;
    }
    if (err instanceof RiskgateError) {
      count(err.code);
      void reply.status(err.status).send({ error: { code: err.code, message: err.message, details: err.details } });
      return;
    }
    const e = err as { statusCode?: number; message?: string };
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    count(status >= 500 ? 'RG_ERR_INTERNAL' : 'RG_ERR_API_BAD_REQUEST');
    void reply.status(status).send({ error: { code: status >= 500 ? 'RG_ERR_INTERNAL' : 'RG_ERR_API_BAD_REQUEST', message: status >= 500 ? 'internal error' : e.message } });
  });
  app.setNotFoundHandler((req, reply) => {
    count('RG_ERR_API_NOT_FOUND');
    void reply.status(404).send({ error: { code: 'RG_ERR_API_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
}
