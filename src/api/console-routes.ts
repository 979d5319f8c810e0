import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Options of {@link consoleRoutes}. */
export interface ConsoleRoutesOptions {
  /** Folder of the console's static files (`index.html`, `css/`, `js/`). Default: `console/` of the repository. */
  root?: string;
  /** `max-age` of the vendored chart library, seconds. Default 86 400 (it changes only with an npm upgrade). */
  vendorMaxAgeS?: number;
}

/**
 * Content-Security-Policy of the console's routes, replacing helmet's on these routes only. The page loads nothing but
 * its own files (no inline script, no eval, no CDN, no external tile or font). It differs from helmet's default in
 * that it has no `upgrade-insecure-requests` (which makes a browser fetch the page's own scripts over https when the
 * gateway is reached over plain http on a LAN, so nothing loads) and names `connect-src 'self'`, which covers the
 * API and the same-origin WebSocket stream (ws:/wss:, CSP Level 3).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self'",
].join('; ');

/** The console's files change with a deploy, under the same names: the browser revalidates (ETag) every time. */
const REVALIDATE = 'no-cache';

/**
 * The operator console (docs/console.md): `/` is its page, `/console/*` its files, `/console/vendor/uplot/*` the
 * chart library served from node_modules (uPlot, MIT). Static and public like any login page: every API call the page
 * makes carries the operator's token, and nothing here reads a token or data.
 */
export async function consoleRoutes(app: FastifyInstance, opts: ConsoleRoutesOptions = {}): Promise<void> {
  const root = opts.root ?? findConsoleRoot();
  const vendorMaxAgeS = opts.vendorMaxAgeS ?? 86_400;
  const uplotDist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

  // Hooks of this plugin apply to its routes only (encapsulation): the API keeps helmet's policy.
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CONSOLE_CSP);
    return payload;
  });

  await app.register(fastifyStatic, {
    root,
    prefix: '/console/',
    // One route per file found at start: nothing outside the folder, no directory listing.
    wildcard: false,
    index: false,
    cacheControl: false,
    setHeaders: (reply) => reply.header('cache-control', REVALIDATE),
  });
  await app.register(fastifyStatic, {
    root: uplotDist,
    prefix: '/console/vendor/uplot/',
    decorateReply: false,
    wildcard: false,
    index: false,
    allowedPath: (path) => path === '/uPlot.esm.js' || path === '/uPlot.min.css',
    maxAge: vendorMaxAgeS * 1000,
  });

  app.get('/', { schema: { hide: true } }, (_req, reply) => {
    reply.header('cache-control', REVALIDATE);
    return reply.sendFile('index.html', root);
  });
}

/** `console/` beside `src/` (run with tsx) or beside `dist/` (compiled): the first ancestor that holds it. */
function findConsoleRoot(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'console');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = resolve(dir, '..');
  }
  throw new Error(`console/index.html not found above ${import.meta.dirname}`);
}
