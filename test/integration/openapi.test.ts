// OpenAPI document and Swagger UI at /docs (src/api/openapi.ts), on the real gateway: the document must be valid
// OpenAPI 3.0 and list the main routes with their parameters, and the UI must work offline under the CSP. Needs
// `await registerOpenApi(app)` in Gateway.buildHttp (src/app.ts) before the first route is registered.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_CSP } from '../../src/api/openapi.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const run = promisify(execFile);

type Json = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Json;
}
interface Operation {
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Json }> };
  responses: Record<string, { description?: string }>;
  security?: Record<string, string[]>[];
}
interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Json>; securitySchemes?: Record<string, Json> };
  security?: Record<string, string[]>[];
  tags?: { name: string }[];
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const TOP_LEVEL = ['openapi', 'info', 'servers', 'paths', 'components', 'security', 'tags', 'externalDocs'];

/** Structural checks of an OpenAPI 3.0.x document (the parts a generator can get wrong); returns every problem. */
function openApi30Problems(doc: OpenApiDoc): string[] {
  const problems: string[] = [];
  const at = (where: string, what: string): void => void problems.push(`${where}: ${what}`);
  if (!/^3\.0\.\d+$/.test(doc.openapi)) at('openapi', `must be 3.0.x, got ${String(doc.openapi)}`);
  for (const key of Object.keys(doc)) if (!TOP_LEVEL.includes(key) && !key.startsWith('x-')) at(key, 'unknown top-level field');
  if (typeof doc.info?.title !== 'string' || !doc.info.title) at('info.title', 'required');
  if (typeof doc.info?.version !== 'string' || !doc.info.version) at('info.version', 'required');
  const schemes = doc.components?.securitySchemes ?? {};
  const checkSecurity = (where: string, sec: Record<string, string[]>[] | undefined): void => {
    for (const req of sec ?? []) for (const name of Object.keys(req)) if (!(name in schemes)) at(where, `security scheme ${name} is not in components.securitySchemes`);
  };
  checkSecurity('security', doc.security);
  const resolve = (ref: string): unknown => {
    if (!ref.startsWith('#/')) return undefined;
    let node: unknown = doc;
    for (const part of ref.slice(2).split('/')) node = (node as Json | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    return node;
  };
  // OpenAPI 3.0 Schema Objects are a JSON Schema subset: what 3.1 / draft 2020-12 output would put there is invalid.
  const checkSchema = (where: string, s: unknown): void => {
    if (s === null || typeof s !== 'object') return;
    if (Array.isArray(s)) return s.forEach((x, i) => checkSchema(`${where}[${i}]`, x));
    const o = s as Json;
    if (typeof o.$ref === 'string' && resolve(o.$ref) === undefined) at(where, `unresolved $ref ${o.$ref}`);
    if (Array.isArray(o.type)) at(where, 'type must be a single string in OpenAPI 3.0 (use nullable)');
    if (o.type === 'null') at(where, 'type "null" does not exist in OpenAPI 3.0');
    for (const k of ['const', '$schema', '$defs', 'prefixItems', 'unevaluatedProperties', 'dependentRequired', 'contentMediaType']) if (k in o) at(where, `${k} is not an OpenAPI 3.0 schema keyword`);
    for (const k of ['exclusiveMinimum', 'exclusiveMaximum']) if (k in o && typeof o[k] !== 'boolean') at(where, `${k} must be a boolean in OpenAPI 3.0`);
    for (const [k, v] of Object.entries(o)) if (k !== 'example' && k !== 'default' && k !== 'enum') checkSchema(`${where}.${k}`, v);
  };
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (!path.startsWith('/')) at(path, 'a path must start with /');
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!HTTP_METHODS.includes(method)) {
        if (method !== 'parameters' && method !== 'summary' && method !== 'description' && method !== 'servers') at(where, 'unknown path item field');
        continue;
      }
      const responses = Object.entries(op.responses ?? {});
      if (responses.length === 0) at(where, 'responses must hold at least one response');
      for (const [code, r] of responses) {
        if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(code)) at(where, `response key ${code} is not a status code`);
        if (typeof r.description !== 'string') at(`${where} ${code}`, 'a response needs a description');
        checkSchema(`${where} ${code}`, r);
      }
      const seen = new Set<string>();
      for (const p of op.parameters ?? []) {
        if (typeof p.name !== 'string' || !p.name) at(where, 'a parameter needs a name');
        if (!['query', 'header', 'path', 'cookie'].includes(p.in)) at(`${where} ${p.name}`, `in must be query, header, path or cookie, got ${p.in}`);
        if (p.in === 'path' && p.required !== true) at(`${where} ${p.name}`, 'a path parameter must be required');
        if (p.in === 'path' && !templated.includes(p.name)) at(`${where} ${p.name}`, 'path parameter missing from the path template');
        if (!p.schema) at(`${where} ${p.name}`, 'a parameter needs a schema');
        if (seen.has(`${p.in}:${p.name}`)) at(`${where} ${p.name}`, 'duplicate parameter');
        seen.add(`${p.in}:${p.name}`);
        checkSchema(`${where} ${p.name}`, p.schema);
      }
      for (const name of templated) if (!seen.has(`path:${name}`)) at(where, `no path parameter for {${name}}`);
      if (op.requestBody) {
        const content = Object.entries(op.requestBody.content ?? {});
        if (content.length === 0) at(where, 'requestBody needs content');
        for (const [type, media] of content) checkSchema(`${where} body ${type}`, media.schema);
      }
      const id = (op as { operationId?: string }).operationId;
      if (id !== undefined) {
        if (operationIds.has(id)) at(where, `duplicate operationId ${id}`);
        operationIds.add(id);
      }
      checkSecurity(where, op.security);
    }
  }
  for (const [name, s] of Object.entries(doc.components?.schemas ?? {})) checkSchema(`components.schemas.${name}`, s);
  return problems;
}

function params(op: Operation | undefined, where: 'query' | 'path'): string[] {
  return (op?.parameters ?? []).filter((p) => p.in === where).map((p) => p.name).sort();
}

/** Chromium, when installed (scripts/test.sh installs it); the browser check is skipped without it. */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

describe('OpenAPI document and Swagger UI at /docs', () => {
  let gw: TestGateway;
  let doc: OpenApiDoc;

  beforeAll(async () => {
    gw = await startTestGateway();
    const res = await fetch(`${gw.httpUrl}/docs/json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as OpenApiDoc;
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('is a valid OpenAPI 3.0 document', () => {
    expect(openApi30Problems(doc)).toEqual([]);
    expect(doc.info.title).toBe('riskgate API');
    expect(doc.components?.securitySchemes?.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
  });

  it('is generated from every route: registered before the first route (/healthz) and the last (/api/v1/stream)', () => {
    expect(doc.paths['/healthz']?.get).toBeDefined();
    expect(doc.paths['/api/v1/stream']?.get).toBeDefined();
    // Its own routes are not in it.
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/docs'))).toEqual([]);
  });

  it('lists the alert routes with their parameters from the zod schemas', () => {
    const list = doc.paths['/api/v1/alerts']?.get;
    expect(params(list, 'query')).toEqual(['before_id', 'condition', 'device_id', 'handling', 'kind', 'level', 'limit', 'open', 'tenant']);
    expect(list?.parameters?.find((p) => p.name === 'kind')?.schema?.enum).toEqual(expect.arrayContaining(['gas', 'dust', 'electrical_fire', 'smoke', 'vehicle']));
    expect(list?.tags).toEqual(['alerts']);
    expect(params(doc.paths['/api/v1/alerts/{id}']?.get, 'path')).toEqual(['id']);
    for (const action of ['ack', 'assign', 'comment', 'close']) {
      const op = doc.paths[`/api/v1/alerts/{id}/${action}`]?.post;
      expect(params(op, 'path'), action).toEqual(['id']);
      expect(op?.requestBody?.content?.['application/json']?.schema, action).toBeDefined();
    }
    const close = doc.paths['/api/v1/alerts/{id}/close']?.post?.requestBody?.content?.['application/json']?.schema as { required?: string[] };
    expect(close.required).toEqual(expect.arrayContaining(['disposition', 'note']));
  });

  it('lists the ingest routes with their path parameters, channel and body', () => {
    const one = doc.paths['/api/v1/ingest/{tenant}/{kind}/{deviceId}']?.post;
    expect(params(one, 'path')).toEqual(['deviceId', 'kind', 'tenant']);
    expect(params(one, 'query')).toEqual(['channel']);
    expect(one?.parameters?.find((p) => p.name === 'channel')?.schema?.enum).toEqual(['telemetry', 'event', 'status']);
    expect(one?.requestBody?.content?.['application/json']?.schema).toMatchObject({ type: 'object', properties: { data: { type: 'object' } } });
    expect(one?.tags).toEqual(['ingest']);
    const batch = doc.paths['/api/v1/ingest']?.post;
    expect(batch?.requestBody?.content?.['application/json']?.schema).toMatchObject({ required: ['items'] });
  });

  it('lists the WebSocket stream with its query parameters', () => {
    const stream = doc.paths['/api/v1/stream']?.get;
    expect(params(stream, 'query')).toEqual(['access_token', 'kind', 'max_level', 'region', 'since', 'tenant']);
    expect(Object.keys(stream?.responses ?? {})).toContain('101');
    expect(stream?.tags).toEqual(['stream']);
  });

  it('lists the registry, token and ops routes; probes and broker auth need no bearer token', () => {
    for (const path of ['/api/v1/devices', '/api/v1/devices/{tenant}/{device_id}', '/api/v1/tenants', '/api/v1/sites', '/api/v1/regions', '/api/v1/tokens', '/api/v1/rules', '/api/v1/stats/online', '/api/v1/silences', '/api/v1/dead-letters']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    for (const [path, method] of [['/healthz', 'get'], ['/readyz', 'get'], ['/metrics', 'get'], ['/api/v1/broker/emqx/authn', 'post']] as const) {
      expect(doc.paths[path]?.[method]?.security, path).toEqual([]);
    }
    expect(doc.paths['/api/v1/alerts']?.get?.security).toBeUndefined(); // the document-wide bearerAuth applies
  });

  it('serves the document as YAML too, and needs no token', async () => {
    const res = await fetch(`${gw.httpUrl}/docs/yaml`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^openapi: 3\.0\.\d/m);
  });

  it('serves the UI as HTML whose scripts are all its own, under a CSP without inline script or upgrade', async () => {
    const res = await fetch(`${gw.httpUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(DOCS_CSP);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-eval|upgrade-insecure-requests|https?:/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff'); // helmet's other headers still apply
    const html = await res.text();
    expect(html).toContain('<div id="swagger-ui">');
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1] ?? '');
    expect(scripts.length).toBeGreaterThan(0);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    for (const attrs of scripts) expect(attrs, 'no inline script').toMatch(/\bsrc="\/docs\/static\//);
    for (const asset of assets) {
      expect(asset, 'served by the gateway, not a CDN').toMatch(/^\/docs\/static\//);
      const a = await fetch(`${gw.httpUrl}${asset}`);
      expect(a.status, asset).toBe(200);
      await a.arrayBuffer();
    }
    const init = await (await fetch(`${gw.httpUrl}/docs/static/swagger-initializer.js`)).text();
    expect(init).toContain('validatorUrl: null'); // the validator badge would call validator.swagger.io
    expect(init).not.toMatch(/https?:\/\/(?!stackoverflow\.com)/); // (one comment links to Stack Overflow)
  });

  it.skipIf(!CHROMIUM)('renders in a headless browser with no network beyond the gateway and no CSP violation', async () => {
    const { stdout, stderr } = await run(
      CHROMIUM as string,
      [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        // Offline: every host but the gateway's address fails to resolve.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        '--virtual-time-budget=15000',
        '--enable-logging=stderr',
        '--v=0',
        '--dump-dom',
        `${gw.httpUrl}/docs`,
      ],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    expect(stderr).not.toMatch(/Content Security Policy/);
    for (const path of ['/api/v1/alerts', '/api/v1/ingest/{tenant}/{kind}/{deviceId}', '/api/v1/stream', '/healthz']) {
      expect(stdout, `Swagger UI rendered ${path}`).toContain(`data-path="${path}"`);
    }
  });
});
