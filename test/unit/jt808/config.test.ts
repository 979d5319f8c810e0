import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { parseConfig, type Config, type ConfigProblem } from '../../../src/config/env.js';

const BASE = { RULES_DIR: join(resolve(import.meta.dirname, '../../..'), 'alert-rules') };

function ok(env: Record<string, string>): Config {
  const res = parseConfig({ ...BASE, ...env });
  if (!res.ok) throw new Error(`expected a valid config, got ${JSON.stringify(res.problems)}`);
  return res.config;
}

function problems(env: Record<string, string>): ConfigProblem[] {
  const res = parseConfig({ ...BASE, ...env });
  if (res.ok) throw new Error(`expected problems for ${JSON.stringify(env)}`);
  return res.problems;
}

test('JT808_ENABLED=false turns the JT/T 808 server off; its port must not collide with the HTTP or embedded-broker port', () => {
  expect(ok({ JT808_ENABLED: 'false' }).jt808).toBeNull();
  expect(ok({ JT808_PORT: '0', JT808_HEARTBEAT_TIMEOUT_MS: '1500', JT808_MAX_CONNECTIONS: '20000' }).jt808).toEqual({ host: '0.0.0.0', port: 0, heartbeatTimeoutMs: 1500, maxConnections: 20_000 });
  expect(problems({ JT808_PORT: '8080' })).toEqual([{ name: 'JT808_PORT', reason: 'must differ from HTTP_PORT (8080)' }]);
  expect(problems({ JT808_PORT: '1883' })).toEqual([{ name: 'JT808_PORT', reason: 'must differ from MQTT_BROKER_PORT (1883)' }]);
  expect(ok({ JT808_PORT: '1883', MQTT_URL: 'mqtt://broker:1883' }).jt808?.port).toBe(1883);
  expect(ok({ JT808_PORT: '8080', JT808_ENABLED: 'false' }).jt808).toBeNull();
  expect(problems({ JT808_HEARTBEAT_TIMEOUT_MS: '10' })[0]).toMatchObject({ name: 'JT808_HEARTBEAT_TIMEOUT_MS', reason: expect.stringMatching(/≥ 1000/) });
});
