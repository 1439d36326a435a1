"""Helper for the native python3 peer: times work inside the interpreter and prints JSON.

Modes:
  call ITERATIONS WARMUP EXPRESSION   per-call ns of eval(EXPRESSION) (compiled every call, as a
                                      string eval is)
  kernel FILE REPS WARMUP             ms per exec() of the file's source, then str(result)
  repl                                reads one expression per line from stdin, prints its value
                                      as JSON per line (an idle interpreter between requests)
  snapshot REPS WARMUP STATE CHECK    ms to pickle the globals STATE leaves, and to unpickle
                                      them and eval CHECK over them; the pickle's size
"""
import json
import pickle
import sys
import time


def call(iterations, warmup, expression):
    namespace = {}
    samples = []
    for i in range(warmup + iterations):
        start = time.perf_counter_ns()
        eval(expression, namespace)
        elapsed = time.perf_counter_ns() - start
        if i >= warmup:
            samples.append(elapsed)
    print(json.dumps({"ns": samples}))


def kernel(path, reps, warmup):
    with open(path, encoding="utf-8") as file:
        source = file.read()
    namespace = {"__name__": "__main__"}
    samples = []
    for i in range(warmup + reps):
        start = time.perf_counter()
        exec(compile(source, path, "exec"), namespace)
        elapsed = (time.perf_counter() - start) * 1000
        if i >= warmup:
            samples.append(elapsed)
    print(json.dumps({"ms": samples, "check": str(namespace["result"])}))


def repl():
    namespace = {}
    for line in sys.stdin:
        try:
            reply = json.dumps(eval(line, namespace))
        except Exception as error:  # noqa: BLE001
            reply = json.dumps({"error": f"{type(error).__name__}: {error}"})
        sys.stdout.write(reply + "\n")
        sys.stdout.flush()


def snapshot(reps, warmup, state, check):
    namespace = {}
    exec(state, namespace)
    data_globals = {k: v for k, v in namespace.items() if not k.startswith("__")}
    snapshot_ms, restore_ms, size = [], [], 0
    for i in range(warmup + reps):
        start = time.perf_counter()
        data = pickle.dumps(data_globals)
        taken = time.perf_counter()
        eval(check, pickle.loads(data))
        done = time.perf_counter()
        size = len(data)
        if i >= warmup:
            snapshot_ms.append((taken - start) * 1000)
            restore_ms.append((done - taken) * 1000)
    print(json.dumps({"bytes": size, "snapshotMs": snapshot_ms, "restoreMs": restore_ms}))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "call":
        call(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif mode == "kernel":
        kernel(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "repl":
        repl()
    elif mode == "snapshot":
        snapshot(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
    else:
        raise SystemExit(f"unknown mode {mode}")
