import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { formatYamlProblem, type YamlProblem } from '../config/yaml-file.js';
import type { Logger } from '../lib/logger.js';
import { loadRules, type RuleSet } from './loader.js';

/** Outcome of the latest reload attempt, for GET /api/v1/rules. */
export interface ReloadStatus {
  /** Gateway time of the attempt, epoch ms. */
  at: number;
  ok: boolean;
  rules: number;
  /** `file:line:col path: reason` of each problem when the edit was rejected. */
  problems: string[];
}

export interface RuleWatcherOptions {
  dir: string;
  logger: Logger;
  /** Called with the new set when a reload succeeds. */
  onRules: (rules: RuleSet) => void;
  /** Quiet time after the last file event before reloading, ms (editors write in several steps). Default 300. */
  debounceMs?: number;
}

/**
 * Hot reload of `alert-rules/`: an edit applies within a second; an invalid edit is rejected with file:line and the
 * previous rules stay in force.
 */
export class RuleWatcher {
  private readonly opts: RuleWatcherOptions;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  status?: ReloadStatus;

  constructor(opts: RuleWatcherOptions) {
    this.opts = opts;
  }

  start(): void {
    this.watcher = watch(this.opts.dir, { persistent: false, recursive: true }, (_event, file) => {
      if (file && !/\.ya?ml$/.test(file)) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), this.opts.debounceMs ?? 300);
    });
    this.watcher.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'rule watcher error'));
  }

  /** Loads the directory now; applies the rules only when every file is valid. */
  reload(): ReloadStatus {
    const res = loadRules(this.opts.dir, dirname(this.opts.dir));
    if (res.ok) {
      this.opts.onRules(res.rules);
      this.status = { at: Date.now(), ok: true, rules: res.rules.byId.size, problems: [] };
      this.opts.logger.info({ rules: res.rules.byId.size, files: res.rules.files }, 'alert rules reloaded');
    } else {
      const problems = res.problems.map((p: YamlProblem) => formatYamlProblem(p));
      this.status = { at: Date.now(), ok: false, rules: 0, problems };
      this.opts.logger.error({ problems }, 'rule edit rejected; the previous rules stay in force');
    }
    return this.status;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
