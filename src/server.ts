import { Gateway } from './app.js';
import { loadConfigFromProcess } from './config/env.js';
import { RiskgateError } from './lib/errors.js';
import { createLogger } from './lib/logger.js';

/** Longest graceful shutdown before the process exits anyway, ms. */
export const SHUTDOWN_TIMEOUT_MS = 15_000;

/** The process: configuration, logger, gateway, signals. Returns the exit code on a failed start. */
export async function runServer(): Promise<void> {
  const cfg = loadConfigFromProcess();
  if (!cfg.ok) {
    process.stderr.write(`riskgate: invalid configuration (RG_ERR_CONFIG_INVALID):\n${cfg.problems.map((p) => `  ${p.name}: ${p.reason}`).join('\n')}\n`);
    process.exit(1);
  }
  const logger = createLogger(cfg.config.log);
  const gateway = new Gateway({ config: cfg.config, logger });
  try {
    await gateway.start();
  } catch (err) {
    if (err instanceof RiskgateError) process.stderr.write(`riskgate: ${err.message}\n`);
    else logger.fatal({ err }, 'gateway failed to start');
    process.exit(1);
  }
  logger.info({ http: gateway.httpPort, mqtt: gateway.mqttUrl, stream: `ws://127.0.0.1:${gateway.httpPort}/api/v1/stream?since=0` }, 'riskgate is running');
  if (gateway.bootstrapToken) {
    process.stdout.write(
      `\nriskgate: bootstrap admin token (shown once — store it now; only its hash is kept):\n\n  ${gateway.bootstrapToken}\n\n` +
        `  export RG_TOKEN=${gateway.bootstrapToken}\n  curl -H "Authorization: Bearer $RG_TOKEN" http://127.0.0.1:${gateway.httpPort}/api/v1/alerts\n\n`,
    );
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) void runServer();
