/**
 * A violation of the canonical ABI by the guest (a bad pointer, an invalid handle, malformed
 * UTF-8). Like a wasm trap it ends the call with an exception; the instance should be discarded.
 */
export class ComponentTrap extends Error {
  override name = 'ComponentTrap';
}
