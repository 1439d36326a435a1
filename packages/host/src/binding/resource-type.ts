/** A resource type: `wasi:io/streams` + `input-stream`. Interfaces that `use` it share it. */
export interface ResourceType {
  /** `wasi:io/streams/input-stream`: the key of its table and of its snapshot. */
  readonly id: string;
  /** The WIT name, `input-stream`. */
  readonly name: string;
  /** The class name the host's WASI objects use, `InputStream`. */
  readonly className: string;
}

export function resource(interfaceName: string, name: string): ResourceType {
  const className = name.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase());
  return { id: `${interfaceName}/${name}`, name, className };
}
