// What every command gets: the global options, a logger, lazy config loading and cleanup on Ctrl-C.
import { resolve } from 'node:path';
import type { Config } from '../config/types.js';
import { Logger } from '../log/logger.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly yes: boolean;
}

export type Cleanup = () => Promise<void> | void;

export class Context {
  readonly options: GlobalOptions;
  readonly log: Logger;
  readonly #cleanups: Cleanup[] = [];
  #config: Config | undefined;

  constructor(options: GlobalOptions, log = new Logger({ json: options.json, verbose: options.verbose })) {
    this.options = options;
    this.log = log;
  }

  get configPath(): string {
    return resolve(this.options.config ?? 'mono.yml');
  }

  /** Loads and validates mono.yml once (the loader is imported lazily: --version and --help stay fast). */
  async config(): Promise<Config> {
    if (this.#config === undefined) {
      const { loadConfig } = await import('../config/load.js');
      this.#config = loadConfig(this.configPath);
    }
    return this.#config;
  }

  /** Register work that must run however the command ends (success, error or Ctrl-C). Returns an unregister function. */
  onCleanup(fn: Cleanup): () => void {
    this.#cleanups.push(fn);
    return () => {
      const i = this.#cleanups.indexOf(fn);
      if (i >= 0) this.#cleanups.splice(i, 1);
    };
  }

  async cleanup(): Promise<void> {
    while (this.#cleanups.length > 0) {
      const fn = this.#cleanups.pop();
      try {
        await fn?.();
      } catch (error) {
        this.log.warn(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
