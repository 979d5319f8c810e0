// docker-compose.yml, the Dockerfile and deploy/ checked without a Docker engine: the gateway's environment against
// its settings (ENV_SCHEMA, parseConfig), service names in URLs, health checks, volumes and mounts, the secrets each
// side must agree on, and that what the Dockerfile copies and runs exists. docs/deploy.md says what this does not
// cover (nothing here builds an image or starts a container).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ENV_SCHEMA, parseConfig } from '../../../src/config/env.js';

const ROOT = join(import.meta.dirname, '../../..');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

// ---- docker-compose.yml ----------------------------------------------------------------------------------------

interface Healthcheck {
  test?: string[] | string;
  disable?: boolean;
  interval?: string;
}
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, unknown> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: Healthcheck;
  restart?: string;
}
interface Compose {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parseYaml(read('docker-compose.yml')) as Compose;
const services = compose.services;

/** Variables of deploy/compose.env.example: the values the test substitutes, and proof the example lists each one. */
const exampleVars: Record<string, string> = Object.fromEntries(
  read('deploy/compose.env.example')
    .split('\n')
    .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

/** Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`. */
function interpolate(s: string, vars: Record<string, string>, refs: { name: string; op?: string }[] = []): string {
  return s.replace(/\$\$|\$\{([A-Za-z_]\w*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_]\w*)/g, (m, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (m === '$$') return '$';
    const name = (braced ?? bare) as string;
    refs.push({ name, op });
    const v = vars[name];
    if (op === ':-') return v ? v : (arg ?? '');
    if (op === '-') return v ?? arg ?? '';
    if ((op === ':?' && !v) || (op === '?' && v === undefined)) throw new Error(`compose would stop: ${name} ${arg}`);
    return v ?? '';
  });
}

/** A service's environment, interpolated; keys in file order. */
function environment(svc: Service, vars = exampleVars): Record<string, string> {
  const env = svc.environment ?? {};
  const pairs: [string, unknown][] = Array.isArray(env) ? env.map((e) => [e.split('=')[0] as string, e.split('=').slice(1).join('=')]) : Object.entries(env);
  return Object.fromEntries(pairs.map(([k, v]) => [k, interpolate(String(v ?? ''), vars)]));
}

/** The compose variable a value is taken from (`${INFLUX_GATEWAY_PASSWORD:?…}` → INFLUX_GATEWAY_PASSWORD). */
function variableOf(svc: Service, key: string): string | undefined {
  const raw = (svc.environment as Record<string, unknown>)[key];
  return /^\$\{([A-Z_]\w*)/.exec(String(raw ?? ''))?.[1];
}

const builtHere = (svc: Service): boolean => (typeof svc.build === 'string' ? svc.build : svc.build?.context) === '.';
const dependsOn = (svc: Service): Record<string, string> =>
  Array.isArray(svc.depends_on) ? Object.fromEntries(svc.depends_on.map((d) => [d, 'service_started'])) : Object.fromEntries(Object.entries(svc.depends_on ?? {}).map(([k, v]) => [k, v.condition ?? 'service_started']));
/** One-shot jobs: never restarted, and awaited by another service until they exit 0. */
const oneShot = (name: string): boolean =>
  services[name]?.restart === 'no' && Object.values(services).some((s) => dependsOn(s)[name] === 'service_completed_successfully');

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  bind: boolean;
}
function mounts(svc: Service): Mount[] {
  return (svc.volumes ?? []).map((v) => {
    const [source, target, mode] = v.split(':') as [string, string, string | undefined];
    return { source, target, readOnly: mode === 'ro', bind: source.startsWith('.') || source.startsWith('/') };
  });
}
/** The mount holding a container path, longest target first. */
function mountOf(svc: Service, path: string): Mount | undefined {
  return mounts(svc)
    .filter((m) => path === m.target || path.startsWith(`${m.target}/`))
    .sort((a, b) => b.target.length - a.target.length)[0];
}
const scriptPath = (svc: Service): string | undefined => [svc.command ?? []].flat().find((a) => a.endsWith('.sh'));

// ---- Dockerfile ------------------------------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const line of lines) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(t);
    if (!m) continue;
    const op = (m[1] as string).toUpperCase();
    const args = (m[2] as string).trim();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ name: f?.[2] ?? String(stages.length), from: f?.[1] ?? '', instructions: [] });
    } else if (stages.length > 0) (stages[stages.length - 1] as Stage).instructions.push({ op, args });
  }
  return stages;
}
const dockerfile = parseDockerfile(read('Dockerfile'));
const runtime = dockerfile[dockerfile.length - 1] as Stage;
const all = (stage: Stage, op: string): string[] => stage.instructions.filter((i) => i.op === op).map((i) => i.args);
const workdir = (stage: Stage): string => all(stage, 'WORKDIR').at(-1) ?? '/';
/** `COPY [--from=x] [--chown=…] src… dst` → sources, destination (absolute), from-stage. */
function copies(stage: Stage): { from?: string; sources: string[]; dest: string }[] {
  return all(stage, 'COPY').map((args) => {
    const parts = args.split(/\s+/);
    const from = parts.find((p) => p.startsWith('--from='))?.slice(7);
    const rest = parts.filter((p) => !p.startsWith('--'));
    const dest = rest.pop() as string;
    return { from, sources: rest, dest: posix.resolve(workdir(stage), dest) };
  });
}
function dockerEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of all(stage, 'ENV')) for (const m of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1] as string] = (m[2] as string).replace(/^"|"$/g, '');
  return env;
}
/** JSON-form instruction arguments (`CMD ["node", "x"]`). */
const execForm = (args: string): string[] => JSON.parse(args.replace(/^CMD\s+/, '')) as string[];

/** .dockerignore, with `!` exceptions; `*` within a segment, `**` across. */
function dockerIgnored(path: string): boolean {
  let ignored = false;
  for (const raw of read('.dockerignore').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = (negate ? line.slice(1) : line).replace(/^\/|\/$/g, '');
    const glob = pattern
      .split('**')
      .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
      .join('.*');
    const re = new RegExp(`^${glob}(/.*)?$`);
    if (re.test(path)) ignored = !negate;
  }
  return ignored;
}

/** Where a path of the gateway container comes from on this checkout: a bind mount, else a COPY of the runtime stage. */
function hostPathOf(svc: Service, containerPath: string): string | undefined {
  const m = mountOf(svc, containerPath);
  if (m?.bind) return join(ROOT, m.source, relative(m.target, containerPath));
  if (m) return undefined; // a named volume: its content is made at run time
  for (const c of copies(runtime)) {
    if (c.from || c.sources.length !== 1) continue;
    if (containerPath === c.dest || containerPath.startsWith(`${c.dest}/`)) return join(ROOT, c.sources[0] as string, relative(c.dest, containerPath));
  }
  return undefined;
}

const gateway = services.gateway as Service;
const gatewayEnv = { ...dockerEnv(runtime), ...environment(gateway) };
const mosquittoConf = Object.fromEntries(
  read('deploy/mosquitto/mosquitto.conf')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'))
    .map((l) => [l.trim().split(/\s+/)[0] as string, l.trim().split(/\s+/).slice(1).join(' ')]),
);
const SETTINGS = Object.keys(ENV_SCHEMA.shape);
/** Settings parseConfig checks for existence on disk. */
const PATH_SETTINGS = ['RULES_DIR', 'NOTIFIERS_FILE', 'REGISTRY_SEED', 'SIM_FLEET'];

describe('docker-compose.yml: the gateway', () => {
  it('runs two services from this Dockerfile (the gateway and the Mosquitto auth export), the rest from images', () => {
    expect(Object.keys(services).filter((n) => builtHere(services[n] as Service)).sort()).toEqual(['gateway', 'mosquitto-auth']);
    for (const [name, svc] of Object.entries(services)) if (!builtHere(svc)) expect(svc.image, name).toMatch(/^[\w./-]+:[\w.-]+$/); // pinned tag
  });

  it('sets only keys the gateway reads (ENV_SCHEMA), in compose and in the Dockerfile', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (!builtHere(svc)) continue;
      for (const key of Object.keys(environment(svc))) expect(SETTINGS, `${name}: ${key}`).toContain(key);
      for (const v of Object.values((svc.environment ?? {}) as Record<string, unknown>)) expect(typeof v, name).toBe('string');
    }
    for (const key of Object.keys(dockerEnv(runtime))) expect(SETTINGS, `Dockerfile ENV ${key}`).toContain(key);
  });

  it('parses with parseConfig: InfluxDB 1.x, the Mosquitto service, the rule packs in the image', () => {
    const env = { ...gatewayEnv };
    for (const key of PATH_SETTINGS) {
      if (!env[key]) continue;
      const host = hostPathOf(gateway, env[key] as string);
      expect(host, `${key}=${env[key]} is neither mounted from this checkout nor copied into the image`).toBeDefined();
      env[key] = host as string;
    }
    const res = parseConfig(env);
    expect(res.ok ? [] : res.problems).toEqual([]);
    if (!res.ok) return;
    expect(res.config.store).toMatchObject({ backend: 'influx-v1', url: 'http://influxdb:8086', database: 'riskgate', username: 'riskgate' });
    expect(res.config.mqtt).toMatchObject({ url: 'mqtt://mosquitto:1883', embedded: null, username: 'riskgate-ingest' });
    expect(res.config.mqtt.password).toBe(exampleVars.MQTT_INGEST_PASSWORD);
    expect(res.config.jt808?.port).toBe(7611);
    // State and spool on a named volume: they survive the container.
    const data = mountOf(gateway, gatewayEnv.DATA_DIR as string);
    expect(data && !data.bind && !data.readOnly, `DATA_DIR ${gatewayEnv.DATA_DIR} is on a named, writable volume`).toBe(true);
    expect(readdirSync(hostPathOf(gateway, gatewayEnv.RULES_DIR as string) as string)).toContain('gas.yaml');
  });

  it('the Mosquitto auth export parses with parseConfig too, and writes where Mosquitto reads', () => {
    const job = services['mosquitto-auth'] as Service;
    const env = environment(job);
    expect(parseConfig({ ...dockerEnv(runtime), ...env, RULES_DIR: join(ROOT, 'alert-rules') }).ok).toBe(true);
    // Same ingest identity as the gateway, from the same compose variable.
    expect(env.MQTT_USERNAME).toBe(gatewayEnv.MQTT_USERNAME);
    expect(variableOf(job, 'MQTT_PASSWORD')).toBe(variableOf(gateway, 'MQTT_PASSWORD'));
    expect(env.DATA_DIR).toBe(gatewayEnv.DATA_DIR);
    expect(mountOf(job, env.DATA_DIR as string)?.source).toBe(mountOf(gateway, gatewayEnv.DATA_DIR as string)?.source);
    // export-mosquitto-auth.sh writes OUT on a volume the mosquitto service mounts at install-auth.sh's SRC.
    const exportScript = read('deploy/gateway/export-mosquitto-auth.sh');
    const out = /^OUT=(\S+)$/m.exec(exportScript)?.[1] as string;
    const outVolume = mountOf(job, out);
    expect(outVolume?.bind, 'the export goes to a named volume').toBe(false);
    const install = read('deploy/mosquitto/install-auth.sh');
    const src = /^SRC=(\S+)$/m.exec(install)?.[1];
    const dst = /^DST=(\S+)$/m.exec(install)?.[1];
    expect(mounts(services.mosquitto as Service).find((m) => m.source === outVolume?.source)).toMatchObject({ target: src, readOnly: true });
    expect(dirname(mosquittoConf.password_file as string)).toBe(dst);
    expect(dirname(mosquittoConf.acl_file as string)).toBe(dst);
  });

  it('publishes the HTTP and JT/T 808 ports it listens on', () => {
    const published = (gateway.ports ?? []).map((p) => Number(p.split(':').at(-1)));
    expect(published).toEqual(expect.arrayContaining([Number(gatewayEnv.HTTP_PORT), Number(gatewayEnv.JT808_PORT)]));
  });
});

describe('docker-compose.yml: services, health, volumes, secrets', () => {
  /** Ports each service listens on inside the network. */
  const listens: Record<string, number[]> = {
    mosquitto: [Number(/^(\d+)/.exec(mosquittoConf.listener ?? '')?.[1])],
    influxdb: [8086], // the influxdb image's HTTP API
    grafana: [3000],
    gateway: [Number(gatewayEnv.HTTP_PORT), Number(gatewayEnv.JT808_PORT)],
  };

  it('names only services of this file in URLs, on ports they listen on', () => {
    const urls: { where: string; url: string }[] = [];
    for (const [name, svc] of Object.entries(services)) for (const [k, v] of Object.entries(environment(svc))) if (/^[a-z][a-z0-9+.-]*:\/\//.test(v)) urls.push({ where: `${name}.${k}`, url: v });
    const grafanaDs = parseYaml(read('grafana/provisioning/datasources/influxdb.yaml')) as { datasources: { url: string }[] };
    for (const d of grafanaDs.datasources) urls.push({ where: 'grafana datasource', url: d.url });
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const { where, url } of urls) {
      const u = new URL(url);
      expect(Object.keys(services), `${where}: ${url}`).toContain(u.hostname);
      expect(listens[u.hostname], `${where}: ${url}`).toContain(Number(u.port));
    }
  });

  it('orders the start: auth export → Mosquitto; Mosquitto and InfluxDB healthy → gateway; InfluxDB → Grafana', () => {
    for (const [name, svc] of Object.entries(services)) for (const dep of Object.keys(dependsOn(svc))) expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep);
    expect(dependsOn(gateway)).toEqual({ 'mosquitto-auth': 'service_completed_successfully', mosquitto: 'service_healthy', influxdb: 'service_healthy' });
    expect(dependsOn(services.mosquitto as Service)).toEqual({ 'mosquitto-auth': 'service_completed_successfully' });
    expect(dependsOn(services.grafana as Service)).toEqual({ influxdb: 'service_healthy' });
  });

  it('has a health check on every long-running service (the gateway\'s from the image: GET /healthz)', () => {
    const healthcheck = all(runtime, 'HEALTHCHECK')[0] ?? '';
    expect(healthcheck).toMatch(/CMD .*\/healthz/);
    for (const [name, svc] of Object.entries(services)) {
      if (oneShot(name)) {
        expect(svc.healthcheck?.disable, name).toBe(true);
        continue;
      }
      expect(svc.restart, name).toBe('unless-stopped');
      if (builtHere(svc) && !svc.healthcheck) continue; // the Dockerfile's HEALTHCHECK
      const test = svc.healthcheck?.test;
      expect(Array.isArray(test) && ['CMD', 'CMD-SHELL'].includes(test[0] as string) && (test[1] ?? '').length > 0, `${name}: healthcheck.test`).toBe(true);
      const ports = [...String((test as string[]).slice(1).join(' ')).matchAll(/(?:127\.0\.0\.1|localhost)(?::| -p )(\d+)/g)].map((m) => Number(m[1]));
      for (const p of ports) expect(listens[name], `${name} healthcheck port ${p}`).toContain(p);
    }
  });

  it('declares every named volume it mounts, mounts every one it declares, and binds only paths of this checkout', () => {
    const declared = Object.keys(compose.volumes ?? {}).sort();
    const used = new Set<string>();
    for (const [name, svc] of Object.entries(services)) {
      for (const m of mounts(svc)) {
        expect(m.target, `${name}: ${m.source}`).toMatch(/^\//);
        if (m.bind) {
          expect(m.source, `${name}: relative to the compose file`).toMatch(/^\.\//);
          expect(existsSync(join(ROOT, m.source)), `${name}: ${m.source} exists`).toBe(true);
          expect(m.readOnly, `${name}: ${m.source} mounted read-only`).toBe(true);
        } else used.add(m.source);
      }
    }
    expect([...used].sort()).toEqual(declared);
    // Mosquitto persists to a named volume.
    const mq = services.mosquitto as Service;
    expect(mountOf(mq, (mosquittoConf.persistence_location as string).replace(/\/$/, ''))?.bind).toBe(false);
  });

  it('mounts Grafana\'s provisioning and dashboards where the provisioning looks for them', () => {
    const g = services.grafana as Service;
    const provisioning = mounts(g).find((m) => m.target === '/etc/grafana/provisioning');
    expect(provisioning?.source).toBe('./grafana/provisioning');
    const providers = parseYaml(read('grafana/provisioning/dashboards/riskgate.yaml')) as { providers: { options: { path: string } }[] };
    const dashboards = mountOf(g, providers.providers[0]?.options.path as string);
    expect(dashboards?.source).toBe('./grafana/dashboards');
    expect(readdirSync(join(ROOT, 'grafana/dashboards')).filter((f) => f.endsWith('.json')).length).toBe(5);
  });

  it('keeps the two sides of each secret on one variable, and every secret required (no default)', () => {
    const influx = services.influxdb as Service;
    const g = services.grafana as Service;
    const ienv = environment(influx);
    const ds = (parseYaml(read('grafana/provisioning/datasources/influxdb.yaml')) as { datasources: { user: string; jsonData: { dbName: string }; secureJsonData: { password: string } }[] }).datasources[0];
    expect(ienv.INFLUXDB_DB).toBe(gatewayEnv.INFLUX_DATABASE);
    expect(ds?.jsonData.dbName).toBe(gatewayEnv.INFLUX_DATABASE);
    expect(ienv.INFLUXDB_HTTP_AUTH_ENABLED).toBe('true');
    expect(ienv.INFLUXDB_USER).toBe(gatewayEnv.INFLUX_USERNAME);
    expect(variableOf(influx, 'INFLUXDB_USER_PASSWORD')).toBe(variableOf(gateway, 'INFLUX_PASSWORD'));
    expect(ienv.INFLUXDB_READ_USER).toBe(ds?.user);
    // The data source reads its password from Grafana's environment, set from the InfluxDB read user's variable.
    const dsVar = /^\$\{?(\w+)\}?$/.exec(ds?.secureJsonData.password ?? '')?.[1] as string;
    expect(variableOf(g, dsVar)).toBe(variableOf(influx, 'INFLUXDB_READ_USER_PASSWORD'));
    // Every variable compose substitutes is in the example file; secrets stop compose when unset.
    const refs: { name: string; op?: string }[] = [];
    interpolate(read('docker-compose.yml'), exampleVars, refs);
    for (const r of refs) {
      expect(Object.keys(exampleVars), r.name).toContain(r.name);
      if (/PASSWORD|SECRET|TOKEN/.test(r.name)) expect(r.op, `${r.name} must be required (\${${r.name}:?…})`).toBe(':?');
    }
  });

  it('configures Mosquitto for the gateway: persistence, no queue limit, deny by default with the exported files', () => {
    expect(mosquittoConf).toMatchObject({ persistence: 'true', max_queued_messages: '0', allow_anonymous: 'false', use_username_as_clientid: 'true' });
    expect(mosquittoConf.password_file).toBeDefined();
    expect(mosquittoConf.acl_file).toBeDefined();
    const mq = services.mosquitto as Service;
    const config = mountOf(mq, '/mosquitto/config/mosquitto.conf');
    expect(config?.source).toBe('./deploy/mosquitto');
    // Its command runs a script of that directory, which runs install-auth.sh and Mosquitto with that config.
    const start = scriptPath(mq) as string;
    expect(existsSync(hostPathOf(mq, start) as string)).toBe(true);
    const startText = readFileSync(hostPathOf(mq, start) as string, 'utf8');
    expect(startText).toContain('/mosquitto/config/install-auth.sh');
    expect(startText).toMatch(/exec \/usr\/sbin\/mosquitto -c \/mosquitto\/config\/mosquitto\.conf/);
    expect(mq.ports).toContain(`${listens.mosquitto?.[0]}:${listens.mosquitto?.[0]}`);
  });

  it('has shell scripts that parse (sh -n)', () => {
    const scripts = ['deploy/gateway', 'deploy/mosquitto'].flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.sh')).map((f) => join(ROOT, d, f)));
    expect(scripts.length).toBe(3);
    for (const s of scripts) expect(() => execFileSync('sh', ['-n', s], { stdio: 'pipe' }), s).not.toThrow();
  });
});

describe('Dockerfile', () => {
  const stage = (name: string): Stage => dockerfile.find((s) => s.name === name) as Stage;

  it('builds in stages: npm ci + tsc, production dependencies apart, a slim runtime', () => {
    expect(dockerfile.map((s) => s.name)).toEqual(['build', 'prod-deps', 'runtime']);
    expect(all(stage('build'), 'RUN').join('\n')).toMatch(/npm ci\b/);
    expect(all(stage('build'), 'RUN').join('\n')).toMatch(/tsc -p tsconfig\.build\.json/);
    expect(all(stage('prod-deps'), 'RUN').join('\n')).toMatch(/npm ci\b[^\n]*--omit=dev/);
    expect(runtime.from).toMatch(/slim/);
    const fromStages = copies(runtime).filter((c) => c.from);
    expect(fromStages.find((c) => c.sources[0] === '/app/node_modules')?.from, 'node_modules from the production install').toBe('prod-deps');
    expect(fromStages.find((c) => c.sources[0] === '/app/dist')?.from).toBe('build');
    for (const c of fromStages) expect(dockerfile.map((s) => s.name)).toContain(c.from);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    for (const s of dockerfile) {
      for (const c of copies(s)) {
        if (c.from) continue;
        for (const src of c.sources) {
          expect(existsSync(join(ROOT, src)), `${s.name}: COPY ${src}`).toBe(true);
          expect(dockerIgnored(src), `${s.name}: COPY ${src} is excluded by .dockerignore`).toBe(false);
          if (statSync(join(ROOT, src)).isDirectory()) expect(readdirSync(join(ROOT, src)).length).toBeGreaterThan(0);
        }
      }
    }
    for (const secret of ['.env', 'node_modules', 'data', '.git']) expect(dockerIgnored(secret), secret).toBe(true);
  });

  it('runs dist/src/server.js, which tsc -p tsconfig.build.json emits from src/server.ts, as a non-root user', () => {
    const cmd = execForm(all(runtime, 'CMD').at(-1) as string);
    expect(cmd[0]).toBe('node');
    const script = posix.resolve(workdir(runtime), cmd[1] as string);
    // COPY --from=build /app/dist ./dist: the build stage's tsc output.
    const dist = copies(runtime).find((c) => c.from === 'build' && (script === c.dest || script.startsWith(`${c.dest}/`)));
    expect(dist, `${script} comes from the build stage`).toBeDefined();
    const build = JSON.parse(read('tsconfig.build.json')) as { extends?: string; include?: string[]; compilerOptions?: { outDir?: string; rootDir?: string } };
    const base = JSON.parse(read(build.extends ?? 'tsconfig.json')) as { compilerOptions: { outDir: string; rootDir: string } };
    const outDir = posix.resolve(workdir(stage('build')), build.compilerOptions?.outDir ?? base.compilerOptions.outDir);
    const rootDir = build.compilerOptions?.rootDir ?? base.compilerOptions.rootDir;
    const emitted = posix.join(outDir, relative(dist?.dest as string, script)); // /app/dist/src/server.js in the build stage
    expect(emitted.startsWith(`${outDir}/`)).toBe(true);
    const source = posix.join(rootDir, posix.relative(outDir, emitted)).replace(/\.js$/, '.ts');
    expect(source).toBe('src/server.ts');
    expect(existsSync(join(ROOT, source))).toBe(true);
    expect(build.include).toContain('src');
    // The server only starts when run as the entry point (import.meta.url === file://argv[1]): run it directly.
    expect(read('src/server.ts')).toMatch(/import\.meta\.url === `file:\/\/\$\{process\.argv\[1\]\}`/);
    const user = all(runtime, 'USER').at(-1);
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('contains the export script the mosquitto-auth service runs', () => {
    const script = scriptPath(services['mosquitto-auth'] as Service) as string;
    const copied = copies(runtime).find((c) => c.dest === script);
    expect(copied?.sources).toEqual(['deploy/gateway/export-mosquitto-auth.sh']);
    expect(read('deploy/gateway/export-mosquitto-auth.sh')).toContain('/app/dist/src/cli/main.js');
  });
});
