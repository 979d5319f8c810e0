import type { FastifyInstance } from 'fastify';
import { requireRole } from '../auth/principal.js';
import type { RuleEngine } from '../rules/engine.js';
import type { RuleWatcher } from '../rules/rule-watcher.js';

/** GET /api/v1/rules: the rules in force and the outcome of the latest hot reload. */
export async function ruleRoutes(app: FastifyInstance, opts: { engine: () => RuleEngine; watcher: () => RuleWatcher | undefined }): Promise<void> {
  app.get('/api/v1/rules', async (req) => {
    requireRole(req, ['admin', 'operator', 'enterprise']);
    const set = opts.engine().ruleSet;
    return {
      files: set.files,
      rules: [...set.byId.values()].map((r) => ({ id: r.id, kind: r.kind, type: r.type, title: r.title, standard: r.standard, enabled: r.enabled, source: r.source })),
      last_reload: opts.watcher()?.status ?? null,
    };
  });
}
