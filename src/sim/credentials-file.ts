import type { MqttLogin } from './mqtt-transport.js';

// Device logins for `riskgate simulate --credentials-file`: what the gateway's credential API hands out
// (`POST /api/v1/devices/{tenant}/{id}/credentials` → `{"username":"t1/gas-1","password":"…","client_id":"t1/gas-1"}`),
// collected as a JSON array, as JSON lines (one response per line, e.g. appended by a curl loop) or as CSV
// `username,password`. The gateway's device username is `{tenant}/{deviceId}`; entries may give `tenant` and
// `device_id` instead of `username`.

export type CredentialsResult = { ok: true; logins: Map<string, MqttLogin> } | { ok: false; error: string };

function entry(obj: unknown, where: string): MqttLogin | string {
  if (typeof obj !== 'object' || obj === null) return `${where}: expected an object with username and password`;
  const o = obj as Record<string, unknown>;
  const username = typeof o.username === 'string' ? o.username : typeof o.tenant === 'string' && typeof o.device_id === 'string' ? `${o.tenant}/${o.device_id}` : undefined;
  if (!username) return `${where}: no username (or tenant and device_id)`;
  if (typeof o.password !== 'string' || o.password === '') return `${where}: no password`;
  return { username, password: o.password };
}

/** Parses a credentials file; every entry keyed by username (`tenant/deviceId`). */
export function parseCredentials(text: string, file: string): CredentialsResult {
  const logins = new Map<string, MqttLogin>();
  const add = (e: MqttLogin | string): string | undefined => {
    if (typeof e === 'string') return e;
    logins.set(e.username, e);
    return undefined;
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(trimmed);
    } catch (err) {
      return { ok: false, error: `${file}: not valid JSON: ${(err as Error).message}` };
    }
    if (!Array.isArray(arr)) return { ok: false, error: `${file}: expected a JSON array` };
    for (const [i, o] of arr.entries()) {
      const problem = add(entry(o, `${file}: item ${i}`));
      if (problem) return { ok: false, error: problem };
    }
    return { ok: true, logins };
  }
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${file}:${i + 1}`;
    if (line.startsWith('{')) {
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch (err) {
        return { ok: false, error: `${where}: not valid JSON: ${(err as Error).message}` };
      }
      const problem = add(entry(o, where));
      if (problem) return { ok: false, error: problem };
      continue;
    }
    const [username, password, ...more] = line.split(',').map((s) => s.trim());
    if (username === 'username' && i === lines.findIndex((l) => l.trim() !== '')) continue; // CSV header
    if (!username || !password || more.length > 0) return { ok: false, error: `${where}: expected username,password` };
    logins.set(username, { username, password });
  }
  return { ok: true, logins };
}
