/** Every WASI 0.2 interface the binding can lower, by name without version. */
import type { ResourceType } from '../resource-type.js';
import type { InterfaceDef } from '../wit.js';
import * as cli from './cli.js';
import * as clocks from './clocks.js';
import * as filesystem from './filesystem.js';
import * as io from './io.js';
import * as random from './random.js';

const ALL: InterfaceDef[] = [
  io.errorInterface,
  io.pollInterface,
  io.streamsInterface,
  clocks.monotonicClockInterface,
  clocks.wallClockInterface,
  filesystem.typesInterface,
  filesystem.preopensInterface,
  cli.environmentInterface,
  cli.exitInterface,
  cli.stdinInterface,
  cli.stdoutInterface,
  cli.stderrInterface,
  cli.terminalInputInterface,
  cli.terminalOutputInterface,
  cli.terminalStdinInterface,
  cli.terminalStdoutInterface,
  cli.terminalStderrInterface,
  random.randomInterface,
  random.insecureInterface,
  random.insecureSeedInterface,
];

export const WASI_INTERFACES: ReadonlyMap<string, InterfaceDef> = new Map(ALL.map((i) => [i.name, i]));

const RESOURCES = new Map<string, ResourceType>(
  ALL.flatMap((i) => [...i.resources.values()].map((r) => [r.type.id, r.type] as const)),
);

export function resourceTypeById(id: string): ResourceType | undefined {
  return RESOURCES.get(id);
}
