/** The shapes shared by workloads, the report writer and the JSON file. */

export type Unit = 'ms' | 'us' | 'MB' | 'KB' | 'req/s' | 'count';

export type Status = 'ok' | 'unsupported' | 'unavailable' | 'failed' | 'skipped';

/** One subject's figure in a row: ours or a peer. */
export interface Measurement {
  /** Display name: the engine and what was timed, e.g. `Pyodide 314.0.7 loadPyodide + runPython`. */
  subject: string;
  /** The figure (a median unless the row says otherwise); null when not measured. */
  value: number | null;
  unit: Unit;
  status: Status;
  /** Why a figure is missing, or what to know about it. */
  note?: string;
  /** Extra statistics (p99, n, ...) kept in the JSON. */
  detail?: Record<string, unknown>;
  /** ours ÷ this peer when it is not simply the ratio of the values (a geometric mean of ratios). */
  ratio?: number;
}

export interface TargetCheck {
  /** e.g. `<= 2 ms`, `>= 40x faster than Pyodide`. */
  text: string;
  /** null when it could not be judged (a figure is missing). */
  pass: boolean | null;
  /** The figure the target was judged on, formatted. */
  measured: string;
}

export interface Row {
  workload: string;
  label: string;
  /** Lower is better for times and memory, higher for throughput. */
  better: 'lower' | 'higher';
  ours: Measurement;
  peers: Measurement[];
  targets: TargetCheck[];
}

export interface WorkloadResult {
  id: string;
  title: string;
  /** What was measured and how, one paragraph. */
  method: string;
  rows: Row[];
  notes: string[];
  /** Set when the whole workload did not run (e.g. the HTTP adapter is not built). */
  skipped?: string;
  seconds: number;
}

export interface PeerInfo {
  name: string;
  version: string;
  available: boolean;
  /** Why it is unavailable, or how it was installed. */
  note?: string;
}

export type PeerName = 'ours' | 'pyodide' | 'monty' | 'native' | 'quickjs' | 'isolated-vm' | 'node';

export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  date: string;
  loadAverage: number[];
}

export interface BenchReport {
  mode: 'full' | 'quick' | 'sessions';
  machine: MachineInfo;
  peers: Record<string, PeerInfo>;
  workloads: WorkloadResult[];
  seconds: number;
  command: string;
}
