import { z } from 'zod';
import { loadYamlFile, type YamlResult } from '../../config/yaml-file.js';
import type { RetryOptions } from '../../lib/backoff.js';
import { DURATION, LEVEL } from '../../rules/rule-base.js';
import type { AlertLevel } from '../../rules/types.js';
import { ALERT_EVENT_TYPES, type AlertEventType } from '../alert.js';

/** Where a notifier sends and in which body format: a generic JSON webhook, a DingTalk or a WeCom group robot. */
export const NOTIFIER_TYPES = ['webhook', 'dingtalk', 'wecom'] as const;
export type NotifierType = (typeof NOTIFIER_TYPES)[number];

/** Backoff of a notification that failed in a way worth retrying. */
export interface NotifierRetryOptions extends RetryOptions {
  /** Attempts in all, the first included; after the last one the notification is dead-lettered. Default 6. */
  maxAttempts: number;
}

/** One configured notifier (docs/notifications.md). */
export interface NotifierConfig {
  /** Unique name: metrics label, dead-letter column and log field. */
  name: string;
  type: NotifierType;
  /** Endpoint, POSTed to; for robots the full webhook URL with its `access_token` / `key`. */
  url: string;
  /** Event types sent. Default `[raised, escalated]`. */
  events: AlertEventType[];
  /** Alert levels sent (the level after the transition). Default all four. */
  levels: AlertLevel[];
  /** Only alerts of these tenants; undefined: every tenant. */
  tenants?: string[];
  /** Extra request headers (e.g. `Authorization`). Default none. */
  headers: Record<string, string>;
  /** DingTalk robot signing secret (`SEC…`); when set, `timestamp` and `sign` are added to the URL. */
  secret?: string;
  /** Each attempt is aborted after this long, ms. Default 5000. */
  timeoutMs: number;
  /** Default 6 attempts, 1 s initial delay, 60 s max, factor 2, jitter 0.2. */
  retry: NotifierRetryOptions;
}

/** Defaults of a notifier's optional keys. */
export const DEFAULT_NOTIFIER_CONFIG = Object.freeze({
  events: ['raised', 'escalated'] as AlertEventType[],
  levels: [1, 2, 3, 4] as AlertLevel[],
  timeoutMs: 5000,
  retry: Object.freeze({ maxAttempts: 6, initialDelayMs: 1000, maxDelayMs: 60_000, factor: 2, jitter: 0.2 }),
});

const EVENT_TYPE = z.enum(ALERT_EVENT_TYPES, { message: `must be one of ${ALERT_EVENT_TYPES.join(', ')}` });

const RETRY = z
  .strictObject({
    max_attempts: z.number().int().min(1).max(100).default(DEFAULT_NOTIFIER_CONFIG.retry.maxAttempts),
    initial_delay: DURATION.default(DEFAULT_NOTIFIER_CONFIG.retry.initialDelayMs),
    max_delay: DURATION.default(DEFAULT_NOTIFIER_CONFIG.retry.maxDelayMs),
    factor: z.number().min(1).max(10).default(DEFAULT_NOTIFIER_CONFIG.retry.factor),
    jitter: z.number().min(0).max(1).default(DEFAULT_NOTIFIER_CONFIG.retry.jitter),
  })
  .transform(
    (r): NotifierRetryOptions => ({ maxAttempts: r.max_attempts, initialDelayMs: r.initial_delay, maxDelayMs: r.max_delay, factor: r.factor, jitter: r.jitter }),
  );

const NOTIFIER = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, { message: 'must be lower-case a–z 0–9 _ . - (max 64)' }),
    type: z.enum(NOTIFIER_TYPES, { message: `must be one of ${NOTIFIER_TYPES.join(', ')}` }),
    url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
    events: z.array(EVENT_TYPE).min(1).default(DEFAULT_NOTIFIER_CONFIG.events),
    levels: z.array(LEVEL).min(1).default(DEFAULT_NOTIFIER_CONFIG.levels),
    tenants: z.array(z.string().min(1).max(64)).min(1).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    secret: z.string().min(1).optional(),
    timeout: DURATION.default(DEFAULT_NOTIFIER_CONFIG.timeoutMs),
    retry: RETRY.default({ ...DEFAULT_NOTIFIER_CONFIG.retry }),
  })
  .superRefine((n, ctx) => {
    // Only DingTalk robots sign; a secret elsewhere would be silently ignored, which hides a misconfiguration.
    if (n.secret !== undefined && n.type !== 'dingtalk') ctx.addIssue({ code: 'custom', path: ['secret'], message: 'only dingtalk notifiers take a secret' });
    if (n.timeout <= 0) ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'must be > 0' });
  })
  .transform(
    (n): NotifierConfig => ({
      name: n.name,
      type: n.type,
      url: n.url,
      events: [...new Set(n.events)],
      levels: [...new Set(n.levels)],
      ...(n.tenants !== undefined ? { tenants: n.tenants } : {}),
      headers: n.headers,
      ...(n.secret !== undefined ? { secret: n.secret } : {}),
      timeoutMs: n.timeout,
      retry: n.retry,
    }),
  );

/** Schema of the notifiers file (`NOTIFIERS_FILE`). */
export const NOTIFIERS_FILE_SCHEMA = z
  .strictObject({ notifiers: z.array(NOTIFIER).default([]) })
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.notifiers.forEach((n, i) => {
      if (seen.has(n.name)) ctx.addIssue({ code: 'custom', path: ['notifiers', i, 'name'], message: `duplicate notifier name ${JSON.stringify(n.name)}` });
      seen.add(n.name);
    });
  });

/** The validated notifiers file. */
export interface NotifiersFile {
  notifiers: NotifierConfig[];
}

/** Reads and validates the notifiers YAML file; every problem is reported with file:line. */
export function loadNotifierConfig(path: string, displayName = path): YamlResult<NotifiersFile> {
  return loadYamlFile(path, NOTIFIERS_FILE_SCHEMA, displayName);
}
