import { describe, expect, test } from 'vitest';
import { parseCredentials } from '../../../src/sim/credentials-file.js';

const LOGIN = { username: 't1/gas-1', password: 'pw1' };

describe('sim/credentials-file', () => {
  test.each([
    ['a JSON array of credential API answers', '[{"username":"t1/gas-1","password":"pw1","client_id":"t1/gas-1"}]'],
    ['JSON lines (a curl loop appending answers)', '{"username":"t1/gas-1","password":"pw1","client_id":"t1/gas-1"}\n\n'],
    ['tenant and device_id instead of username', '[{"tenant":"t1","device_id":"gas-1","password":"pw1"}]'],
    ['CSV with a header', 'username,password\nt1/gas-1,pw1\n'],
    ['CSV without a header, with a comment', '# issued 2025-03-15\nt1/gas-1, pw1\n'],
  ])('reads %s', (_what, text) => {
    const r = parseCredentials(text, 'creds');
    expect(r.ok && r.logins.get('t1/gas-1')).toEqual(LOGIN);
  });

  test.each([
    ['an entry without a password', '[{"username":"t1/gas-1"}]', /creds: item 0: no password/],
    ['a broken JSON line', '{"username":"t1/gas-1","password":"pw1"}\n{"username":\n', /creds:2: not valid JSON/],
    ['a CSV line without a password', 't1/gas-1\n', /creds:1: expected username,password/],
  ])('refuses %s, naming the place', (_what, text, want) => {
    const r = parseCredentials(text, 'creds');
    expect(r.ok ? '' : r.error).toMatch(want);
  });
});
