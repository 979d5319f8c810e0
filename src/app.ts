import { dirname, join } from 'node:path';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AlertService } from './alerts/alert-service.js';
import { AlertStore } from './alerts/alert-store.js';
import { loadNotifierConfig } from './alerts/notifiers/notifier-config.js';
import { NotificationService } from './alerts/notifiers/webhook-notifier.js';
import { alertRoutes } from './api/alert-routes.js';
import { registryRoutes } from './api/registry-routes.js';
import { statsRoutes } from './api/stats-routes.js';
import { telemetryRoutes } from './api/telemetry-routes.js';
import { consoleRoutes } from './api/console-routes.js';
import { tokenRoutes } from './api/token-routes.js';
import { DeviceActivity } from './registry/device-activity.js';
import { RegionStore } from './registry/region-store.js';
import { SiteStore } from './registry/site-store.js';
import { TenantStore } from './registry/tenant-store.js';
import { httpIngestRoutes } from './ingest/http/http-ingest-routes.js';
import { installAuthHook } from './auth/auth-hook.js';
import { requireRole } from './auth/principal.js';
import { TokenStore } from './auth/token-store.js';
import { ruleRoutes } from './api/rule-routes.js';
import { installErrorHandler } from './api/http-errors.js';
import { opsRoutes } from './api/ops-routes.js';
import { registerOpenApi } from './api/openapi.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import type { Config } from './config/env.js';
import { formatYamlProblem } from './config/yaml-file.js';
import { MqttIngest } from './ingest/mqtt/mqtt-ingest.js';
import { Jt808Ingest } from './ingest/jt808/jt808-ingest.js';
import { systemClock, type Clock } from './lib/clock.js';
import { RiskgateError } from './lib/errors.js';
import { EventBus } from './lib/event-bus.js';
import type { Logger } from './lib/logger.js';
import { createMetrics, type Metrics } from './lib/metrics.js';
import { openSqlite, type SqliteDb } from './lib/sqlite.js';
import { DeadLetterLog } from './pipeline/dead-letters.js';
import type { GatewayEvents } from './pipeline/events.js';
import { Pipeline } from './pipeline/pipeline.js';
import { DeviceRegistry } from './registry/device-registry.js';
import { CredentialStore } from './registry/credentials.js';
import { brokerAuthRoutes } from './api/broker-auth-routes.js';
import { credentialRoutes } from './api/credential-routes.js';
import { loadDeviceFile, type FleetDevice } from './registry/seed.js';
import { RuleEngine } from './rules/engine.js';
import { loadRules } from './rules/loader.js';
import { RuleWatcher } from './rules/rule-watcher.js';
import { FleetSimulator } from './sim/fleet-simulator.js';
import { WriteBatcher } from './storage/batcher.js';
import { createPointWriter } from './storage/index.js';
import type { PointWriter } from './storage/point.js';
import { Spool } from './storage/spool.js';
import { StoreSink } from './storage/store-sink.js';
import { AlertEventExporter } from './storage/alert-event-export.js';
import { alertStreamRoutes } from './stream/alert-stream.js';

export interface GatewayOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** Collect Node's default process metrics (off in tests that mount several gateways). Default true. */
  defaultMetrics?: boolean;
  /** Run the rule engine's timers (tick, persistence). Default true; tests with a fake clock call `rules.tick()`. */
  timers?: boolean;
}

/**
 * The composition root: builds every stage in flow order, starts them, stops them in reverse.
 * Constructing does nothing; `start()` owns every resource and `stop()` releases it.
 */
export class Gateway {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly bus: EventBus<GatewayEvents>;
  readonly deadLetters: DeadLetterLog;
  db!: SqliteDb;
  registry!: DeviceRegistry;
  credentials!: CredentialStore;
  alertStore!: AlertStore;
  alerts!: AlertService;
  rules!: RuleEngine;
  writer!: PointWriter;
  batcher!: WriteBatcher;
  spool?: Spool;
  pipeline!: Pipeline;
  http!: FastifyInstance;
  broker?: EmbeddedBroker;
  ingest!: MqttIngest;
  /** The JT/T 808 TCP server for vehicle terminals; undefined when JT808_ENABLED=false. */
  jt808?: Jt808Ingest;
  simulator?: FleetSimulator;
  ruleWatcher?: RuleWatcher;
  notifications?: NotificationService;
  /** Copies alert events into InfluxDB (measurement alert_events) for the Grafana annotations; undefined on SQLite. */
  alertExport?: AlertEventExporter;
  tokens!: TokenStore;
  tenants!: TenantStore;
  regions!: RegionStore;
  sites!: SiteStore;
  activity!: DeviceActivity;
  /** The admin token created on the first start (no admin token existed); shown once, never stored in clear. */
  bootstrapToken?: string;
  /** Run the engine's tick and persistence timers (tests that drive `rules.tick()` by hand turn them off). */
  private readonly timers: boolean;
  private started = false;
  private stopping = false;

  constructor(opts: GatewayOptions) {
    this.config = opts.config;
    this.logger = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.metrics = createMetrics({ defaultMetrics: opts.defaultMetrics ?? true });
    this.bus = new EventBus<GatewayEvents>((event, err) => this.logger.error({ event, err }, 'event listener failed'));
    this.deadLetters = new DeadLetterLog(opts.config.ingest.deadLetterCapacity);
    this.timers = opts.timers ?? true;
  }

  async start(): Promise<void> {
    try {
      await this.startStages();
      this.started = true;
    } catch (err) {
      await this.stop().catch(() => {});
      throw err;
    }
  }

  private async startStages(): Promise<void> {
    const { config, logger } = this;
    const loaded = loadRules(config.rulesDir, dirname(config.rulesDir));
    if (!loaded.ok) {
      throw new RiskgateError('RG_ERR_RULES_INVALID', `invalid rule files:\n${loaded.problems.map((p) => `  ${formatYamlProblem(p)}`).join('\n')}`, loaded.problems);
    }
    const ruleCount = loaded.rules.byId.size;
    logger.info({ dir: config.rulesDir, files: loaded.rules.files, rules: ruleCount }, 'alert rules loaded');

    this.db = openSqlite(join(config.dataDir, 'riskgate.db'));
    this.registry = new DeviceRegistry(this.db);
    this.registry.start();
    this.credentials = new CredentialStore({ db: this.db, clock: this.clock });
    this.credentials.start();
    this.regions = new RegionStore(this.db);
    this.regions.start();
    this.tenants = new TenantStore(this.db);
    this.tenants.start();
    this.sites = new SiteStore(this.db);
    this.sites.start();
    const fleet = this.seed();
    this.activity = new DeviceActivity({ clock: this.clock, db: this.db, logger });
    this.activity.start({ timers: this.timers });

    this.tokens = new TokenStore(this.db);
    this.tokens.start();
    if (!this.tokens.hasActiveAdmin()) {
      // First start: an admin token is printed once (server.ts) and only its hash is kept.
      this.bootstrapToken = this.tokens.create({ name: 'bootstrap-admin', role: 'admin', createdBy: 'riskgate' }).token;
      logger.warn('no admin token existed: created a bootstrap admin token (printed once on stdout; revoke it once you have your own)');
    }

    this.alertStore = new AlertStore(this.db);
    this.alertStore.start();
    const a = config.alerts;
    this.alerts = new AlertService({
      store: this.alertStore,
      bus: this.bus,
      clock: this.clock,
      metrics: this.metrics,
      logger,
      policy: { escalateAfterMs: { 1: a.escalateAfterMs[0], 2: a.escalateAfterMs[1], 3: a.escalateAfterMs[2], 4: a.escalateAfterMs[3] }, autoCloseLevels: a.autoCloseLevels, flapFlips: a.flapFlips, flapWindowMs: a.flapWindowMs },
    });
    this.alerts.start();
    this.rules = new RuleEngine({
      rules: loaded.rules,
      alerts: this.alerts,
      registry: this.registry,
      clock: this.clock,
      logger,
      db: this.db,
      options: { historyCutoffMs: config.rules.historyCutoffMs, ingestStallMs: config.rules.ingestStallMs },
    });
    this.rules.start({ timers: this.timers });
    if (config.rules.hotReload) {
      this.ruleWatcher = new RuleWatcher({ dir: config.rulesDir, logger, onRules: (rules) => {
        this.rules.setRules(rules);
        this.bus.emit('rulesLoaded', rules);
      } });
      this.ruleWatcher.start();
    }
    this.bus.on('alertEvent', this, (ev) =>
      logger.info({ seq: ev.seq, type: ev.type, device: `${ev.alert.tenant}/${ev.alert.device_id}`, rule: ev.alert.rule_id, level: ev.alert.level, value: ev.alert.last_value }, `alert ${ev.type}: ${ev.alert.title}`),
    );

    if (config.notifiersFile) {
      const nc = loadNotifierConfig(config.notifiersFile);
      if (!nc.ok) throw new RiskgateError('RG_ERR_CONFIG_INVALID', `invalid notifiers file:\n${nc.problems.map((p) => `  ${formatYamlProblem(p)}`).join('\n')}`, nc.problems);
      this.notifications = new NotificationService({ notifiers: nc.value.notifiers, bus: this.bus, db: this.db, logger, metrics: this.metrics });
      this.notifications.start();
      logger.info({ file: config.notifiersFile, notifiers: nc.value.notifiers.map((n) => `${n.name} (${n.type})`) }, 'notifiers started');
    }

    this.writer = createPointWriter(config.store);
    await this.writer.start();
    const backend = this.writer.name;
    const m = this.metrics;
    this.spool = new Spool(config.spool, {
      tornRecord: (path, offset, bytes, why) => {
        m.spoolTornRecords.inc();
        logger.error({ path, offset, bytes, why }, 'spool record damaged: skipped');
      },
    });
    this.batcher = new WriteBatcher({
      writer: this.writer,
      spool: this.spool,
      options: config.batch,
      hooks: {
        batchWritten: (n, ms) => {
          m.pointsWritten.inc({ backend }, n);
          m.batchWriteSeconds.observe({ backend }, ms / 1000);
          this.bus.emit('batchWritten', { backend, points: n, ms });
          logger.debug({ backend, points: n, ms }, 'batch written');
        },
        batchFailed: (n, err, attempt) => {
          m.batchFailures.inc({ backend });
          logger.warn({ backend, points: n, attempt, err: (err as Error).message }, 'batch write failed; will retry');
        },
        spoolRead: (n) => m.spoolReadPoints.inc(n),
        spoolFailed: (err) => {
          m.spoolWriteErrors.inc();
          logger.error({ err: (err as Error).message, dir: config.spool.dir }, 'spool append failed: the record is held in memory only; ingest paused until it is written');
        },
        modeChanged: (mode) =>
          mode === 'spool'
            ? logger.warn({ pending: this.batcher.pendingPoints, maxInMemory: config.batch.maxPendingPoints }, 'store behind: backlog is read back from the spool')
            : logger.info('store caught up: batches are cut from memory again'),
      },
    });
    m.sources.store = () => {
      const st = this.spool?.stats();
      return { pendingPoints: this.batcher.pendingPoints, lagSeconds: this.batcher.lagMs / 1000, spoolBytes: st?.bytes ?? 0, spoolBacklogBytes: st?.pendingBytes ?? 0, spoolSegments: st?.segments ?? 0, readingBack: this.batcher.mode === 'spool' };
    };
    this.batcher.start();
    if (config.store.backend !== 'sqlite') {
      // Alert events also go to InfluxDB (measurement alert_events): the Grafana dashboards' annotations.
      this.alertExport = new AlertEventExporter({ writer: createPointWriter(config.store), events: this.alertStore, bus: this.bus, cursorFile: join(config.dataDir, 'alert-events-exported.json'), logger });
      await this.alertExport.start();
    }
    const rec = this.batcher.recovery;
    if (rec && (rec.points > 0 || rec.tornRecords > 0)) {
      m.spoolReplayedPoints.inc(rec.points);
      logger.warn({ points: rec.points, records: rec.records, tornRecords: rec.tornRecords, tornBytes: rec.tornBytes }, 'spool holds points not known to be stored (last stop was a crash, or the store was away): writing them again');
    }
    logger.info({ backend, ...(config.store.backend === 'sqlite' ? { path: config.store.path } : { url: config.store.url }) }, 'time-series store ready');

    this.pipeline = new Pipeline({
      registry: this.registry,
      metrics: this.metrics,
      deadLetters: this.deadLetters,
      clock: this.clock,
      limits: config.ingest,
      sinks: [new StoreSink(this.batcher), this.rules, this.activity],
    });

    this.http = await this.buildHttp();
    await this.http.listen({ host: config.http.host, port: config.http.port });
    logger.info({ url: `http://${config.http.host}:${this.httpPort}` }, 'HTTP API listening');

    let mqttUrl = config.mqtt.url;
    if (config.mqtt.embedded) {
      this.broker = new EmbeddedBroker({
        host: config.mqtt.embedded.host,
        port: config.mqtt.embedded.port,
        logger,
        credentials: this.credentials,
        registry: this.registry,
        allowAnonymous: config.mqtt.embedded.allowAnonymous,
        onRefused: (action) => this.metrics.mqttRefusals.inc({ action }),
      });
      await this.broker.start();
      mqttUrl = `mqtt://127.0.0.1:${this.broker.port}`;
    }
    // On the embedded broker the ingest uses the broker's in-memory internal identity; on an external one, MQTT_USERNAME/PASSWORD.
    const mqttAuth = this.broker?.internalCredentials ?? { username: config.mqtt.username, password: config.mqtt.password };
    this.ingest = new MqttIngest(
      {
        url: mqttUrl as string,
        clientId: config.mqtt.clientId,
        groupCommitMs: config.mqtt.groupCommitMs,
        trace: config.mqtt.trace,
        ...mqttAuth,
        logger,
        isBackedUp: () => this.batcher.isBackedUp,
        onPause: (paused) => this.metrics.ingestPaused.set(paused ? 1 : 0),
      },
      this.pipeline,
    );
    await this.ingest.start();

    if (config.jt808) {
      const j = config.jt808;
      this.jt808 = new Jt808Ingest({
        options: { host: j.host, port: j.port, heartbeatTimeoutMs: j.heartbeatTimeoutMs, maxConnections: j.maxConnections },
        registry: this.registry,
        db: this.db,
        pipeline: this.pipeline,
        liveness: { rules: this.rules, activity: this.activity },
        rules: () => this.rules.ruleSet,
        historyCutoffMs: config.rules.historyCutoffMs,
        bus: this.bus,
        metrics: this.metrics,
        clock: this.clock,
        logger,
        isBackedUp: () => this.batcher.isBackedUp,
      });
      await this.jt808.start();
    }

    if (fleet.length > 0 && config.simFleet) {
      this.simulator = new FleetSimulator({
        devices: fleet,
        brokerUrl: mqttUrl as string,
        logger,
        clock: this.clock,
        // Simulated devices get fresh credentials each start, like provisioned devices (the old ones stop working).
        credentialsFor: (d) => this.credentials.issue(d.tenant, d.deviceId, { replace: true }),
      });
      await this.simulator.start();
    }
  }

  /** Registry seed and simulated fleet: both upserted into the registry; the fleet is returned for the simulator. */
  private seed(): FleetDevice[] {
    let fleet: FleetDevice[] = [];
    for (const file of [this.config.registrySeed, this.config.simFleet]) {
      if (!file) continue;
      const res = loadDeviceFile(file);
      if (!res.ok) throw new RiskgateError('RG_ERR_CONFIG_INVALID', `invalid device file:\n${res.problems.map((p) => `  ${formatYamlProblem(p)}`).join('\n')}`, res.problems);
      for (const t of res.tenants) if (!this.tenants.get(t.tenant)) this.tenants.create(t);
      this.registry.upsert(res.devices.map((d) => d.device));
      if (file === this.config.simFleet) fleet = res.devices;
      this.logger.info({ file, devices: res.devices.length }, 'devices registered from file');
    }
    return fleet;
  }

  private async buildHttp(): Promise<FastifyInstance> {
    const app: FastifyInstance = Fastify({
      loggerInstance: this.logger.child({ component: 'http' }) as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: 1024 * 1024,
    });
    installErrorHandler(app, this.metrics);
    await app.register(helmet, { global: true });
    // Clients send nothing but control frames; anything larger than 4 KiB is refused (close 1009). Registered before
    // the auth hook: its onRequest hook marks upgrade requests, so that a refused (401) upgrade's socket is destroyed;
    // after the auth hook it never ran for them, and every refused upgrade held its socket open (and blocked close()).
    await app.register(websocket, { options: { maxPayload: 4096 } });
    installAuthHook(app, this.tokens);
    // Per token (or per address before authentication); probes and metrics are not limited. Runs after the auth hook.
    await app.register(rateLimit, {
      global: true,
      hook: 'preHandler',
      max: this.config.http.rateLimitPerMin,
      timeWindow: 60_000,
      keyGenerator: (req) => req.principal?.tokenId ?? req.ip,
      // EMQX asks the broker-auth endpoints on every connect/publish/subscribe: a 429 there would deny devices.
      allowList: (req) => {
        // The route's pattern: a percent-encoded raw URL (`/%61pi/…`) must not escape the limit.
        const path = req.routeOptions.url ?? req.url;
        return !path.startsWith('/api/') || path.startsWith('/api/v1/broker/');
      },
      errorResponseBuilder: (_req, ctx) => new RiskgateError('RG_ERR_RATE_LIMITED', `more than ${ctx.max} requests per minute for this token; retry in ${Math.ceil(ctx.ttl / 1000)} s`),
    });
    // OpenAPI document and Swagger UI at /docs: before the first route, so that every route is in the document.
    await registerOpenApi(app);
    await app.register(opsRoutes, {
      metrics: this.metrics,
      deadLetters: this.deadLetters,
      readiness: async () => ({ mqtt_subscribed: this.ingest?.ready === true, store: await this.writer.ping().catch(() => false), not_stopping: !this.stopping }),
      registry: this.registry,
    });
    await app.register(tokenRoutes, { tokens: this.tokens });
    const { username: mqttUser, password: mqttPassword } = this.config.mqtt;
    await app.register(brokerAuthRoutes, {
      credentials: this.credentials,
      registry: this.registry,
      secret: this.config.mqtt.brokerAuthSecret,
      ingest: mqttUser && mqttPassword ? { username: mqttUser, password: mqttPassword } : undefined,
    });
    await app.register(credentialRoutes, { credentials: this.credentials, registry: this.registry });
    await app.register(registryRoutes, { registry: this.registry, tenants: this.tenants, regions: this.regions, sites: this.sites, activity: this.activity });
    await app.register(statsRoutes, { registry: this.registry, activity: this.activity, tenants: this.tenants, regions: this.regions, clock: this.clock });
    await app.register(telemetryRoutes, { registry: this.registry, store: this.config.store, clock: this.clock });
    await app.register(httpIngestRoutes, { pipeline: this.pipeline, registry: this.registry, metrics: this.metrics, isBackedUp: () => this.batcher.isBackedUp });
    await app.register(alertRoutes, { store: this.alertStore, service: this.alerts, registry: this.registry });
    await app.register(ruleRoutes, { engine: () => this.rules, watcher: () => this.ruleWatcher });
    // Admins only: the dead letters hold every tenant's alert payloads (no principal check let any token read them).
    app.get('/api/v1/notifications/dead-letters', async (req) => {
      requireRole(req, ['admin']);
      return { dead_letters: this.notifications?.deadLetters(100) ?? [], stats: this.notifications?.stats() ?? [] };
    });
    await app.register(alertStreamRoutes, { store: this.alertStore, bus: this.bus, metrics: this.metrics, logger: this.logger });
    await app.register(consoleRoutes);
    return app;
  }

  get httpPort(): number {
    const addr = this.http?.server.address();
    return typeof addr === 'object' && addr ? addr.port : this.config.http.port;
  }

  /** Port of the JT/T 808 server (the real one when JT808_PORT=0); undefined when it is off or not started. */
  get jt808Port(): number | undefined {
    try {
      return this.jt808?.port;
    } catch {
      return undefined; // not listening (stopped, or failed to start)
    }
  }

  /** URL devices and tools publish to: the embedded broker's, or the external one. */
  get mqttUrl(): string {
    return this.broker ? `mqtt://127.0.0.1:${this.broker.port}` : (this.config.mqtt.url as string);
  }

  /** Stops in reverse flow order: no new input, then flush what was accepted, then close the stores. */
  async stop(): Promise<void> {
    this.stopping = true; // /readyz answers 503 from now on
    const log = this.logger;
    const step = async (name: string, fn: () => Promise<void> | void): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        log.error({ err, step: name }, 'error while stopping');
      }
    };
    await step('simulator', () => this.simulator?.stop());
    await step('ingest', () => this.ingest?.stop());
    await step('jt808', () => this.jt808?.stop());
    await step('rule watcher', () => this.ruleWatcher?.stop());
    await step('rule engine', () => this.rules?.stop());
    await step('broker', () => this.broker?.stop());
    await step('http', () => this.http?.close());
    await step('notifications', () => this.notifications?.stop());
    await step('activity', () => this.activity?.stop());
    await step('batcher', () => this.batcher?.stop());
    await step('writer', () => this.writer?.stop());
    await step('alert export', () => this.alertExport?.stop());
    this.bus.removeOwner(this);
    await step('db', () => {
      if (this.db?.open) this.db.close();
    });
    if (this.started) log.info('gateway stopped');
    this.started = false;
  }
}
