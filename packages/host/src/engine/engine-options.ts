/** The process's engine: the executor threads that run every sandbox's calls. */
export interface EngineOptions {
  /** Executor threads kept running. Default: one per core (`os.availableParallelism()`). */
  executors?: number;
  /**
   * Most executor threads at once. Beyond `executors`, spares start while every executor is
   * busy (long calls, sleeps) and stop after a few idle seconds. Default: `executors` + 8.
   */
  maxExecutors?: number;
  /**
   * Idle time after which a sandbox is parked: its memory is released and only its compressed
   * snapshot kept, until its next use restores it (a few ms). A whole number of ms (at most
   * 2^31-1), or `Infinity` to never park. A sandbox's own `parkIdleMs` overrides it.
   * Default: 60000 (a minute: sessions in use stay hot, forgotten ones cost ~0.1 MB).
   */
  parkIdleMs?: number;
}
