/**
 * The manifest of a built guest artifact: written by guest-build, read by the host. It is the
 * only thing the host knows about a guest, so everything language-specific (read-only trees,
 * initial memory) is stated here rather than coded into the host.
 */
import { z } from 'zod';
import { LANGUAGES, WORLD_NAMES } from './names.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_SCHEMA_VERSION = 1;

const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a path inside the artifact');

export const coreModuleSchema = z.object({
  /** File name inside the artifact, as the transpiled glue asks for it. */
  file: relativePath,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Initial pages of the memory the module defines, if it defines one. */
  definedMemoryInitialPages: z.number().int().nonnegative().optional(),
});

export const readOnlyTreeSchema = z.object({
  /** Absolute path where the guest sees the tree. */
  guestPath: z.string().regex(/^\/[^\0]*$/),
  /** Directory inside the artifact holding the tree. */
  dir: relativePath,
});

const address = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 32 - 4);

/**
 * How the host stops a call without killing a thread. Both parts are written by the build; a
 * guest without them can only be stopped by discarding its executor thread.
 */
export const interruptSchema = z
  .object({
    /**
     * Hard stop: a 32-bit word in linear memory that checks inserted at loop headers read; the
     * guest traps as soon as it holds `hardStopValue`. A specific value, not "non-zero", so
     * stray writes (a stack that reaches the word) cannot stop a guest by accident.
     */
    hardStop: z
      .object({
        address,
        value: z
          .number()
          .int()
          .min(1)
          .max(2 ** 32 - 1),
      })
      .strict(),
    /**
     * Soft stop (CPython): the host stores `exceptionAddress` (an immortal exception type) at
     * `asyncExcAddress` and sets `asyncExceptionBit` in the word at `evalBreakerAddress`, so
     * the interpreter raises that exception at its next eval-breaker check.
     */
    python: z
      .object({
        evalBreakerAddress: address,
        asyncExcAddress: address,
        exceptionAddress: address,
        asyncExceptionBit: z.number().int().min(0).max(31),
      })
      .strict()
      .optional(),
  })
  .strict();

export type InterruptInfo = z.infer<typeof interruptSchema>;

export const manifestSchema = z
  .object({
    schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
    language: z.enum(LANGUAGES),
    /** The world the component was built for: `sandbox` or `sandbox-extended`. */
    world: z.enum(WORLD_NAMES),
    /** Version of the `component-sandbox:sandbox` WIT package the guest was built against. */
    contractVersion: z.string(),
    backend: z.string(),
    /** The transpiled ES module exporting `instantiate`. */
    glue: relativePath,
    coreModules: z.array(coreModuleSchema).min(1),
    /** Initial guest linear memory in 64 KiB pages; a memory limit below it cannot work. */
    initialMemoryPages: z.number().int().nonnegative(),
    /** Interfaces (without version) the component imports: WASI's, and `host` (sandbox-extended). */
    imports: z.array(z.string()),
    readOnlyTrees: z.array(readOnlyTreeSchema),
    /**
     * The build preopened `/` after the read-only trees: the host routes its paths (the
     * sandbox's writable `/tmp`, mounts named at run time). Absent: the guest sees only its trees.
     */
    virtualRoot: z.boolean().optional(),
    /**
     * Read-only trees the host routes through the virtual root only (they are not preopens): a
     * directory of the artifact seen at a second path, such as the stdlib's time-zone data at
     * `/usr/share/zoneinfo`. Needs `virtualRoot`.
     */
    routedTrees: z.array(readOnlyTreeSchema).optional(),
    toolchain: z.record(z.string(), z.string()),
    interrupt: interruptSchema.optional(),
  })
  .strict();

export type GuestManifest = z.infer<typeof manifestSchema>;
export type CoreModuleEntry = z.infer<typeof coreModuleSchema>;
export type ReadOnlyTreeEntry = z.infer<typeof readOnlyTreeSchema>;
