// The host function of the `host-call` workload as a functionsModule: a synchronous function,
// which the host runs on the executor thread, where the guest calls it.
export function inc(x) {
  return x + 1;
}
