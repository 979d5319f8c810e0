import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type AuthErrorCode, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from '../lib/logger.js';
import { credentialUsername, parseCredentialUsername, type CredentialChange, type CredentialStore } from '../registry/credentials.js';
import type { DeviceRegistry } from '../registry/device-registry.js';
import { authorizePublish, authorizeRead, authorizeSubscribe, type BrokerIdentity } from './authorizer.js';

/** Username of the gateway's own ingest client on the embedded broker (device usernames always contain a '/'). */
export const INTERNAL_USERNAME = 'riskgate-ingest';

export interface EmbeddedBrokerOptions {
  host: string;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Largest accepted MQTT packet, bytes (larger ones are refused by the broker, and counted by the gateway). */
  maxPacketBytes?: number;
  logger: Logger;
  /** Device credentials. Without them no device can connect (only the internal identity, and anonymous clients if allowed). */
  credentials?: CredentialStore;
  /** Registered devices: a device connects only while registered, and publishes under its registered kind. */
  registry?: DeviceRegistry;
  /**
   * Development and tests only: a client that sends no username is accepted and may publish and subscribe anywhere
   * (except `$SYS`), as before device credentials existed. Clients that send a username are still authenticated and
   * confined. Default false: no credentials, no connection.
   */
  allowAnonymous?: boolean;
  /** Called once per refusal (connect, publish, subscribe), for the `riskgate_mqtt_refusals_total{action}` metric. */
  onRefused?: (action: 'connect' | 'publish' | 'subscribe') => void;
}

const INGEST = { role: 'ingest' } as const;
const ANONYMOUS = { role: 'anonymous' } as const;

/** A connection's identity: a device or the ingest (see authorizer.ts), or an anonymous client when allowed. */
type ConnIdentity = { role: 'device'; tenant: string; deviceId: string } | typeof INGEST | typeof ANONYMOUS;

/** A device connection, from the start of its authentication until its socket closes. */
interface DeviceSession {
  client: Client;
  /** Set when the credential changed; an authentication still in flight then fails. */
  revoked: boolean;
}

/**
 * aedes in process: the zero-install broker of `npm start`. Sessions and QoS 1 queues live in memory
 * (an external Mosquitto or EMQX is the production choice; see README).
 *
 * Authentication is on: devices present their credential (`tenant/deviceId` + password), the gateway's ingest client
 * the per-process {@link EmbeddedBroker.internalCredentials}. Authorization (authorizer.ts) is deny by default, and a
 * credential change closes the device's live sessions at once (docs/broker-auth.md).
 */
export class EmbeddedBroker {
  private readonly opts: EmbeddedBrokerOptions;
  private aedes?: Aedes;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly identities = new WeakMap<Client, ConnIdentity>();
  /** `tenant/deviceId` → its connections (authenticating or connected). */
  private readonly sessions = new Map<string, Set<DeviceSession>>();
  private internalPassword?: string;

  constructor(opts: EmbeddedBrokerOptions) {
    this.opts = opts;
  }

  async start(): Promise<void> {
    const log = this.opts.logger;
    // Held only in memory: a new one every start, so it never sits in a file or an environment variable.
    this.internalPassword = randomBytes(32).toString('base64url');
    const aedes = await Aedes.createBroker({
      id: 'riskgate-embedded',
      queueLimit: 100_000,
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => this.authorizeSubscribe(client, sub, done),
      authorizeForward: (client, packet) => this.authorizeForward(client, packet),
    });
    aedes.on('clientError', (client, err) => log.debug({ client: client.id, err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'mqtt connection error'));
    this.opts.credentials?.events.on('credentialChanged', this, (change) => this.disconnectDevice(change));
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
    if (this.opts.allowAnonymous) log.warn('embedded MQTT broker accepts anonymous clients without restriction (development only)');
    log.info({ host: this.opts.host, port: this.port, anonymous: this.opts.allowAnonymous === true }, 'embedded MQTT broker (aedes) listening');
  }

  /** The bound port (useful when started with port 0). */
  get port(): number {
    const addr = this.server?.address();
    return typeof addr === 'object' && addr ? addr.port : this.opts.port;
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  /**
   * Username and password of the gateway's own ingest client (read `rg/v1/#`, write downlink topics). The password
   * is random per process and exists only in memory. Available once started.
   */
  get internalCredentials(): { username: string; password: string } {
    if (this.internalPassword === undefined) throw new Error('the embedded broker is not started');
    return { username: INTERNAL_USERNAME, password: this.internalPassword };
  }

  async stop(): Promise<void> {
    this.opts.credentials?.events.removeOwner(this);
    const server = this.server;
    const aedes = this.aedes;
    this.server = undefined;
    this.aedes = undefined;
    this.internalPassword = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of this.sockets) s.destroy();
      await closed;
    }
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    this.sessions.clear();
  }

  // ---- aedes handlers: guard clauses first, then the decision ----

  private authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: (err: AuthenticateError | null, ok: boolean | null) => void): void {
    const log = this.opts.logger;
    const refuse = (returnCode: 2 | 3 | 4 | 5, message: string): void => {
      log.info({ client: client.id, username, returnCode, reason: message }, 'mqtt connection refused');
      this.opts.onRefused?.('connect');
      done(Object.assign(new Error(message), { returnCode: returnCode as AuthErrorCode }), false);
    };
    // [MQTT-3.1.2-19] no User Name flag: only an anonymous client, and only where allowed.
    if (username === undefined || username === '') {
      if (!this.opts.allowAnonymous) return refuse(5, 'credentials are required'); // CONNACK 0x05 Not authorized
      this.identities.set(client, ANONYMOUS);
      return done(null, true);
    }
    // [MQTT-3.1.2-21] a User Name without Password cannot authenticate here.
    if (password === undefined || password.length === 0) return refuse(4, 'bad user name or password');
    if (username === INTERNAL_USERNAME) {
      if (this.internalPassword === undefined || !sameSecret(password, this.internalPassword)) return refuse(4, 'bad user name or password');
      this.identities.set(client, INGEST);
      return done(null, true);
    }
    const ids = parseCredentialUsername(username);
    const { credentials, registry } = this.opts;
    if (!ids || !credentials || !registry) return refuse(4, 'bad user name or password');
    // [MQTT-3.1.3-9] a device's client id must be its own (username, or username + '/…'): otherwise it could take over
    // another client's session [MQTT-3.1.4-2] — the ingest's queue included.
    if (client.id !== username && !client.id.startsWith(`${username}/`)) return refuse(2, `client id must be "${username}" or start with "${username}/"`);

    const session: DeviceSession = { client, revoked: false };
    this.track(username, session);
    credentials.verify(username, password).then(
      (who) => {
        if (session.revoked) return refuse(4, 'credential changed during authentication');
        if (!who) return refuse(4, 'bad user name or password');
        if (!registry.get(who.tenant, who.deviceId)) return refuse(5, 'device is not registered');
        this.identities.set(client, { role: 'device', tenant: who.tenant, deviceId: who.deviceId });
        done(null, true);
      },
      (err: unknown) => {
        log.error({ err, username }, 'credential check failed');
        refuse(3, 'server unavailable'); // CONNACK 0x03: try again later
      },
    );
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
    // client is null for an obsolete will of a broker that is gone: nobody to hold to account, so no.
    const identity = client ? this.identityOf(client) : undefined;
    if (!client || !identity) {
      this.opts.onRefused?.('publish');
      return done(new Error('publish refused: unknown client'));
    }
    if (identity.role === 'anonymous') {
      // aedes' default: $SYS is the broker's [MQTT-4.7.2-1].
      if (packet.topic.startsWith('$')) this.opts.onRefused?.('publish');
      return done(packet.topic.startsWith('$') ? new Error('publish refused: $ topics are reserved') : null);
    }
    const decision = authorizePublish(identity, packet.topic);
    if (decision.ok) return done(null);
    // [MQTT-3.3.5-2] MQTT 3.1.1 cannot tell the client; aedes closes the connection (Mosquitto acks and drops).
    this.opts.logger.warn({ client: client.id, topic: packet.topic.slice(0, 200), reason: decision.reason }, 'mqtt publish refused; closing the connection');
    this.opts.onRefused?.('publish');
    done(new Error(`publish refused: ${decision.reason}`));
  }

  private authorizeSubscribe(client: Client, sub: Subscription, done: (err: Error | null, sub?: Subscription | null) => void): void {
    const identity = this.identityOf(client);
    if (identity?.role === 'anonymous') return done(null, sub);
    const decision = identity ? authorizeSubscribe(identity, sub.topic) : { ok: false as const, reason: 'unknown client' };
    if (decision.ok) return done(null, sub);
    this.opts.logger.warn({ client: client.id, filter: sub.topic.slice(0, 200), reason: decision.reason }, 'mqtt subscription refused');
    this.opts.onRefused?.('subscribe');
    // [MQTT-3.9.3] return code 0x80 (Failure) for this filter; the connection stays.
    done(null, null);
  }

  private authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const identity = this.identityOf(client);
    if (identity?.role === 'anonymous') return packet;
    return identity && authorizeRead(identity, packet.topic).ok ? packet : null;
  }

  // ---- identities and sessions ----

  /** The decision identity of a client; a device's kind is its registered kind now (undefined once unregistered). */
  private identityOf(client: Client): BrokerIdentity | typeof ANONYMOUS | undefined {
    const id = this.identities.get(client);
    if (!id || id.role !== 'device') return id;
    const device = this.opts.registry?.get(id.tenant, id.deviceId);
    return device ? { role: 'device', tenant: id.tenant, deviceId: id.deviceId, kind: device.kind } : undefined;
  }

  private track(username: string, session: DeviceSession): void {
    let set = this.sessions.get(username);
    if (!set) this.sessions.set(username, (set = new Set()));
    set.add(session);
    session.client.conn.once('close', () => {
      const current = this.sessions.get(username);
      current?.delete(session);
      if (current?.size === 0) this.sessions.delete(username);
    });
  }

  /** Rotation and revocation take effect at once: every live or authenticating session of the device is closed. */
  private disconnectDevice(change: CredentialChange): void {
    const username = credentialUsername(change.tenant, change.deviceId);
    const set = this.sessions.get(username);
    if (!set) return;
    for (const session of set) {
      session.revoked = true;
      session.client.close();
    }
    this.opts.logger.info({ device: username, change: change.change, sessions: set.size }, 'credential changed; device sessions closed');
  }
}

/** Constant-time comparison of a presented secret with the expected one (hashed first, so lengths never leak). */
function sameSecret(presented: Buffer, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
