import { pino, type Logger } from 'pino';

export type { Logger };

/** The gateway's logger: JSON lines (pino); pretty-printed on a terminal when pino-pretty is installed. */
export function createLogger(opts: { level: string; pretty: boolean }): Logger {
  if (opts.pretty) {
    return pino({
      level: opts.level,
      transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return pino({ level: opts.level });
}
