/** The process's engine: the executor threads that run every sandbox's calls. */
export interface EngineOptions {
  /** Executor threads kept running. Default: one per core (`os.availableParallelism()`). */
  executors?: number;
  /**
   * Most executor threads at once. Beyond `executors`, spares start while every executor is
   * busy (long calls, sleeps) and stop after a few idle seconds. Default: `executors` + 8.
   */
  maxExecutors?: number;
}
