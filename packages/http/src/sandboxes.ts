/**
 * Opening and closing sandboxes through the host, and knowing which ones are alive (for metrics
 * and shutdown). Sandboxes with the server's default limits come from the host's warm pool (one
 * per language, `poolSize` sandboxes kept ready); other limits start a sandbox on demand. Host
 * errors at creation become API errors.
 */
import {
  ArtifactError,
  InvalidInputError,
  UnsupportedImportError,
  createSandbox,
  createSandboxPool,
  type Sandbox,
  type SandboxOptions,
  type SandboxPool,
} from '@component-sandbox/host';
import type { ServerConfig } from './config.js';
import { ApiError } from './errors.js';
import { GuestUnavailableError, type GuestRegistry, type Language } from './guests.js';
import type { CallLimits } from './limits.js';
import { misuseError } from './outcome.js';

export class Sandboxes {
  readonly #alive = new Set<Sandbox>();
  readonly #pools = new Map<Language, Promise<SandboxPool>>();
  #closed = false;

  constructor(
    private readonly guests: GuestRegistry,
    private readonly config: ServerConfig,
  ) {}

  /** Sandboxes handed out and not closed yet (sessions and one-shot runs in flight). */
  get alive(): number {
    return this.#alive.size;
  }

  /** Warm sandboxes ready in the pool of each language that has one. */
  async poolIdle(): Promise<Map<Language, number>> {
    const idle = new Map<Language, number>();
    for (const [language, pending] of this.#pools) {
      const pool = await pending.catch(() => undefined);
      if (pool) idle.set(language, pool.idle);
    }
    return idle;
  }

  /** A guest directory, or ApiError 503 LANGUAGE_UNAVAILABLE. */
  async guest(language: Language): Promise<string> {
    try {
      return await this.guests.artifactDir(language);
    } catch (error) {
      if (error instanceof GuestUnavailableError) {
        const message = error.message.includes(language) ? error.message : `${language}: ${error.message}`;
        throw new ApiError(503, 'LANGUAGE_UNAVAILABLE', message);
      }
      throw error;
    }
  }

  #options(language: Language, guest: string, limits: CallLimits): SandboxOptions {
    const { packagesDir, functionsModule, maxHostCalls } = this.config;
    return {
      guest,
      ...limits,
      maxCodeBytes: this.config.maxCodeBytes,
      outputLimitBytes: this.config.maxOutputBytes,
      // --packages is mounted into every Python sandbox (the host refuses it for other languages).
      ...(language === 'python' && packagesDir !== undefined ? { packages: packagesDir } : {}),
      maxHostCalls,
      ...(functionsModule !== undefined ? { functionsModule } : {}),
    };
  }

  #isDefault(limits: CallLimits): boolean {
    const defaults = this.#defaults();
    return (
      limits.timeoutMs === defaults.timeoutMs &&
      limits.memoryLimitBytes === defaults.memoryLimitBytes &&
      limits.tmpLimitBytes === defaults.tmpLimitBytes
    );
  }

  /** The language's warm pool (created on first use, or by `warm`). */
  #pool(language: Language, guest: string): Promise<SandboxPool> {
    let pending = this.#pools.get(language);
    if (!pending) {
      pending = createSandboxPool({
        ...this.#options(language, guest, this.#defaults()),
        size: this.config.poolSize,
      });
      this.#pools.set(language, pending);
      pending.catch(() => this.#pools.delete(language));
    }
    return pending;
  }

  /** Starts the pool of every available language (compiling its guest) before serving. */
  async warm(languages: readonly Language[]): Promise<void> {
    if (this.config.poolSize === 0) {
      // No pool: still compile each guest once, so that the first request does not pay for it.
      for (const language of languages) {
        await this.close(await this.open(language, this.#defaults()));
      }
      return;
    }
    for (const language of languages) await this.#pool(language, await this.guest(language));
  }

  #defaults(): CallLimits {
    return {
      timeoutMs: this.config.defaultTimeoutMs,
      memoryLimitBytes: this.config.defaultMemoryLimitBytes,
      tmpLimitBytes: this.config.tmpLimitBytes,
    };
  }

  async open(language: Language, limits: CallLimits): Promise<Sandbox> {
    if (this.#closed) throw new ApiError(503, 'SHUTTING_DOWN', 'the server is shutting down');
    const guest = await this.guest(language);
    let sandbox: Sandbox;
    try {
      sandbox =
        this.config.poolSize > 0 && this.#isDefault(limits)
          ? await (await this.#pool(language, guest)).acquire()
          : await createSandbox(this.#options(language, guest, limits));
    } catch (error) {
      if (error instanceof ArtifactError || error instanceof UnsupportedImportError) {
        this.guests.forget(language);
        throw new ApiError(503, 'LANGUAGE_UNAVAILABLE', `the ${language} guest cannot be loaded: ${error.message}`);
      }
      throw misuseError(error) ?? error;
    }
    if (this.#closed) {
      await sandbox.close();
      throw new ApiError(503, 'SHUTTING_DOWN', 'the server is shutting down');
    }
    this.#alive.add(sandbox);
    return sandbox;
  }

  /**
   * A sandbox made from another (a fork, a restored snapshot), tracked like any other so
   * shutdown closes it. A snapshot the host refuses is `invalid` (default 400 INVALID_SNAPSHOT).
   */
  async adopt(
    make: () => Promise<Sandbox>,
    invalid: (message: string) => ApiError = (message) => new ApiError(400, 'INVALID_SNAPSHOT', message),
  ): Promise<Sandbox> {
    if (this.#closed) throw new ApiError(503, 'SHUTTING_DOWN', 'the server is shutting down');
    let sandbox: Sandbox;
    try {
      sandbox = await make();
    } catch (error) {
      if (error instanceof InvalidInputError) throw invalid(error.message);
      throw misuseError(error) ?? error;
    }
    if (this.#closed) {
      await sandbox.close();
      throw new ApiError(503, 'SHUTTING_DOWN', 'the server is shutting down');
    }
    this.#alive.add(sandbox);
    return sandbox;
  }

  /** The options a sandbox of `language` with `limits` is made with. */
  async optionsFor(language: Language, limits: CallLimits): Promise<SandboxOptions> {
    return this.#options(language, await this.guest(language), limits);
  }

  async close(sandbox: Sandbox): Promise<void> {
    this.#alive.delete(sandbox);
    await sandbox.close();
  }

  /** Stops every sandbox and pool at once (shutdown); calls still running fail as crashed. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    const all = [...this.#alive];
    this.#alive.clear();
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled([
      ...all.map((sandbox) => sandbox.close()),
      ...pools.map(async (pending) => (await pending).close()),
    ]);
  }
}
