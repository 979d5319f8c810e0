import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../lib/logger.js';

export interface EmbeddedBrokerOptions {
  host: string;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Largest accepted MQTT packet, bytes (larger ones are refused by the broker, and counted by the gateway). */
  maxPacketBytes?: number;
  logger: Logger;
}

/**
 * aedes in process: the zero-install broker of `npm start`. Sessions and QoS 1 queues live in memory
 * (an external Mosquitto or EMQX is the production choice; see README).
 */
export class EmbeddedBroker {
  private readonly opts: EmbeddedBrokerOptions;
  private aedes?: Aedes;
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(opts: EmbeddedBrokerOptions) {
    this.opts = opts;
  }

  async start(): Promise<void> {
    const log = this.opts.logger;
    const aedes = await Aedes.createBroker({ id: 'riskgate-embedded', queueLimit: 100_000 });
    aedes.on('clientError', (client, err) => log.debug({ client: client.id, err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'mqtt connection error'));
    const server = createServer({ noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      aedes.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.aedes = aedes;
    this.server = server;
    log.info({ host: this.opts.host, port: this.port }, 'embedded MQTT broker (aedes) listening');
  }

  /** The bound port (useful when started with port 0). */
  get port(): number {
    const addr = this.server?.address();
    return typeof addr === 'object' && addr ? addr.port : this.opts.port;
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    const aedes = this.aedes;
    this.server = undefined;
    this.aedes = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of this.sockets) s.destroy();
      await closed;
    }
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
  }
}
