import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROLES, type Role } from '../auth/principal.js';
import { TokenStore } from '../auth/token-store.js';
import { parseDurationMs } from '../lib/duration.js';
import { openSqlite } from '../lib/sqlite.js';

/**
 * `riskgate token create|list|revoke`: manages API tokens directly in the state database (`--data-dir`, default
 * DATA_DIR or `data`), also while the gateway runs — it reads tokens from SQLite on every request.
 */
export function tokenCommand(args: string[], defaultDataDir: string): number {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string', default: defaultDataDir },
      name: { type: 'string' },
      role: { type: 'string' },
      tenant: { type: 'string' },
      regions: { type: 'string' },
      device: { type: 'string' },
      'expires-in': { type: 'string' },
    },
  });
  const db = openSqlite(join(resolve(values['data-dir'] as string), 'riskgate.db'));
  try {
    const tokens = new TokenStore(db);
    tokens.start();
    if (sub === 'list') {
      for (const t of tokens.list()) process.stdout.write(`${t.id}\t${t.role}\t${t.name}\t${t.tenant ?? ''}${t.regions.length ? `\t${t.regions.join(',')}` : ''}${t.device_id ? `\t${t.device_id}` : ''}\n`);
      return 0;
    }
    if (sub === 'revoke') {
      const id = positionals[0];
      if (!id) throw new Error('usage: riskgate token revoke <tok_…>');
      const r = tokens.revoke(id, 'cli');
      if (!r) throw new Error(`no active token ${id}`);
      process.stdout.write(`revoked ${id}\n`);
      return 0;
    }
    if (sub === 'create') {
      const role = values.role as Role | undefined;
      if (!role || !ROLES.includes(role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
      if (!values.name) throw new Error('--name is required');
      if ((role === 'enterprise' || role === 'device') && !values.tenant) throw new Error(`--tenant is required for role ${role}`);
      if (role === 'operator' && !values.regions) throw new Error('--regions is required for role operator (e.g. 5101,5102)');
      if (role === 'device' && !values.device) throw new Error('--device is required for role device');
      const regions = values.regions?.split(',').map((r) => r.trim());
      if (regions?.some((r) => !/^\d{2,12}$/.test(r))) throw new Error('--regions: GB/T 2260 codes or prefixes, comma-separated');
      const expires = values['expires-in'] ? parseDurationMs(values['expires-in']) : undefined;
      if (values['expires-in'] && expires === undefined) throw new Error('--expires-in: a duration such as 30d');
      const { token, record } = tokens.create({ name: values.name, role, tenant: values.tenant, regions, deviceId: values.device, expiresAt: expires ? Date.now() + expires : undefined, createdBy: 'cli' });
      process.stdout.write(`${record.id} (${record.role}) — the token is shown once:\n${token}\n`);
      return 0;
    }
    throw new Error('usage: riskgate token create --role R --name N [--tenant T] [--regions 5101,…] [--device D] [--expires-in 30d] | list | revoke <id>');
  } finally {
    db.close();
  }
}
