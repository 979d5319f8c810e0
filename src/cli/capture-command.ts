import { parseArgs } from 'node:util';
import { readCapture, writeRegistrySeed } from '../capture/capture-format.js';
import { TerminalProgress } from '../capture/progress.js';
import { CaptureRecorder } from '../capture/record.js';
import { parseSpeed, replayCapture } from '../capture/replay.js';
import { INGEST_SUBSCRIPTION } from '../ingest/mqtt/topics.js';
import { parseDurationMs } from '../lib/duration.js';

/** Where a command writes; the CLI passes process.stdout / stderr. */
export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const RECORD_USAGE = `riskgate record --broker URL [--topic 'rg/v1/#'] --out capture.jsonl.gz [--duration 10m] [--username U --password P]

  Records every message on the topic filter (QoS 1) into a capture until --duration has passed or Ctrl-C.
  The header lists the devices seen on well-formed topics, ready for a replay's REGISTRY_SEED.
`;

const REPLAY_USAGE = `riskgate replay capture.jsonl.gz --broker URL [--speed 1x|10x|max] [--loop N] [--rebase-time] [--seed-out F] [--username U --password P]

  Publishes the capture's messages with QoS 1, keeping the recorded spacing (divided by --speed; none at max).
  --rebase-time moves every device time by one offset per pass so that the last reading lands when it is sent:
  old recordings fall inside the gateway's accepted window. --seed-out writes the capture's devices as a
  REGISTRY_SEED file. At max speed a gateway's per-device rate limit (INGEST_MAX_MESSAGES_PER_DEVICE_PER_S) applies.
`;

/** `riskgate record …`: returns the exit code once the recording is written. */
export async function runRecord(argv: string[], io: CommandIo): Promise<number> {
  let values: { broker?: string; topic: string; out?: string; duration?: string; username?: string; password?: string };
  try {
    values = parseArgs({
      args: argv,
      options: {
        broker: { type: 'string' },
        topic: { type: 'string', default: INGEST_SUBSCRIPTION },
        out: { type: 'string' },
        duration: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
      },
    }).values;
  } catch (err) {
    io.stderr(`${(err as Error).message}\n${RECORD_USAGE}`);
    return 2;
  }
  const durationMs = values.duration === undefined ? undefined : parseDurationMs(values.duration);
  if (!values.broker || !values.out || (values.duration !== undefined && !durationMs)) {
    io.stderr(values.duration !== undefined && !durationMs ? `--duration must be like 30s, 10m, 2h\n${RECORD_USAGE}` : RECORD_USAGE);
    return 2;
  }
  const bar = new TerminalProgress('record', 's');
  const started = Date.now();
  const recorder = new CaptureRecorder({
    brokerUrl: values.broker,
    topic: values.topic,
    outPath: values.out,
    username: values.username,
    password: values.password,
  });
  await recorder.start();
  io.stderr(`recording ${values.topic} from ${values.broker}${durationMs ? ` for ${values.duration}` : ''} (Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    const finish = (): void => {
      clearInterval(tick);
      if (timer) clearTimeout(timer);
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      resolve();
    };
    const timer = durationMs ? setTimeout(finish, durationMs) : undefined;
    // With a duration the bar counts seconds towards it; without one it shows the elapsed time and the message rate.
    const tick = setInterval(() => {
      const elapsedS = Math.round((Date.now() - started) / 1000);
      const totalS = durationMs ? Math.round(durationMs / 1000) : Math.max(elapsedS, 1);
      bar.update(elapsedS, totalS, durationMs ? durationMs - (Date.now() - started) : 0);
    }, 500);
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
  bar.stop();
  const res = await recorder.stop();
  io.stdout(`recorded ${res.messages} messages from ${res.devices.length} devices in ${(res.durationMs / 1000).toFixed(1)} s → ${res.path}\n`);
  return 0;
}

/** `riskgate replay …`: returns the exit code once every message is acknowledged. */
export async function runReplay(argv: string[], io: CommandIo): Promise<number> {
  let parsed: { values: { broker?: string; speed: string; loop: string; 'rebase-time': boolean; 'seed-out'?: string; username?: string; password?: string }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        broker: { type: 'string' },
        speed: { type: 'string', default: '1x' },
        loop: { type: 'string', default: '1' },
        'rebase-time': { type: 'boolean', default: false },
        'seed-out': { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
      },
    });
  } catch (err) {
    io.stderr(`${(err as Error).message}\n${REPLAY_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const speed = parseSpeed(values.speed);
  const loops = Number(values.loop);
  const path = positionals[0];
  if (!path || positionals.length > 1 || !values.broker || speed === undefined || !Number.isInteger(loops) || loops < 1) {
    io.stderr(speed === undefined ? `--speed must be like 1x, 10x, 0.5x or max\n${REPLAY_USAGE}` : REPLAY_USAGE);
    return 2;
  }
  const capture = readCapture(path);
  if (values['seed-out']) io.stderr(`wrote ${writeRegistrySeed(values['seed-out'], [capture])} devices to ${values['seed-out']}\n`);
  const bar = new TerminalProgress('replay', 'msgs');
  const res = await replayCapture(capture, {
    brokerUrl: values.broker,
    username: values.username,
    password: values.password,
    speed,
    loops,
    rebaseTime: values['rebase-time'],
    onProgress: (p) => bar.update(p.acked, p.total, Number.isFinite(speed) ? p.remainingCaptureMs / speed : undefined),
  });
  bar.stop();
  const offsets = res.passes.map((p) => `${(p.offsetMs / 86_400_000).toFixed(2)} d`).join(', ');
  io.stdout(
    `replayed ${res.published} messages (${loops} pass${loops > 1 ? 'es' : ''}) in ${(res.elapsedMs / 1000).toFixed(1)} s` +
      `${values['rebase-time'] ? `; device times moved by ${offsets}` : ''}\n`,
  );
  return 0;
}
