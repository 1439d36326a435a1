/**
 * Request and response schemas (TypeBox, i.e. JSON Schema): fastify validates requests against
 * them, serialises responses with them, and @fastify/swagger turns them into the OpenAPI document.
 * Built per configuration so that the documented limits are the server's own.
 */
import { Type, type Static } from 'typebox';
import type { ServerConfig } from './config.js';
import { LANGUAGES } from './guests.js';
import { RUN_STATUSES } from './outcome.js';

export function buildSchemas(config: ServerConfig) {
  const Language = Type.Enum([...LANGUAGES], {
    title: 'Language',
    description: `Guest language (default ${config.defaultLanguage}); GET /v1/languages says which are available.`,
  });
  const TimeoutMs = Type.Integer({
    minimum: 1,
    description: `Wall-clock limit of each call in ms (default ${config.defaultTimeoutMs}, at most ${config.maxTimeoutMs}).`,
    examples: [5000],
  });
  const MemoryLimitBytes = Type.Integer({
    minimum: 1,
    description:
      `Guest memory limit in bytes; one of ${config.memoryLimitsBytes.join(', ')} ` +
      `(default ${config.defaultMemoryLimitBytes}).`,
    examples: [config.defaultMemoryLimitBytes],
  });
  const TmpLimitBytes = Type.Integer({
    minimum: 1,
    description:
      `What the sandbox's writable /tmp may hold, in bytes (Python; counted in 4 KiB blocks); ` +
      `at most and by default ${config.tmpLimitBytes}.`,
    examples: [config.tmpLimitBytes],
  });
  const Files = Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: Type.String({ format: 'byte', description: "The file's bytes, base64." }),
    description:
      'Files written into /tmp before the first call (Python): path -> base64 content. Paths are below /tmp, ' +
      'relative (data/in.csv) or absolute (/tmp/data/in.csv); parent directories are made. Together they count ' +
      `against tmpLimitBytes, and the whole request against the body limit (${config.bodyLimitBytes} bytes).`,
    examples: [{ 'in.csv': 'YSxiCjEsMgo=' }],
  });
  const Code = (description: string) =>
    Type.String({ description: `${description} At most ${config.maxCodeBytes} bytes of UTF-8.` });
  const Stdin = Type.String({
    description:
      'What the guest reads on stdin during the call (Python: input(), sys.stdin; each call reads it from the start); ' +
      `without it, end of file. At most ${config.maxCodeBytes} bytes of UTF-8.`,
  });

  const ErrorResponse = Type.Object(
    {
      error: Type.Object({
        code: Type.String({ description: 'Stable machine-readable code, e.g. SESSION_NOT_FOUND.' }),
        message: Type.String(),
        details: Type.Optional(Type.Unknown({ description: 'More about the error, e.g. the field at fault.' })),
      }),
    },
    { title: 'Error', description: 'Every 4xx and 5xx answer.' },
  );

  const CallResultFields = {
    status: Type.Enum([...RUN_STATUSES], {
      description:
        'ok; exec_error / eval_error: the guest raised (see error); timeout: a call ran past its time limit ' +
        '(see sandbox: interrupted code keeps its state); ' +
        'memory_limit: the guest trapped at its memory limit; crashed: any other trap. ' +
        'A guest MemoryError that it raised itself is an exec_error/eval_error with error.type MemoryError.',
    }),
    value: Type.Optional(
      Type.Unknown({
        description:
          "The value (eval, status ok): the guest's JSON text itself, passed through unchanged, so any depth comes back intact.",
      }),
    ),
    json: Type.Optional(Type.String({ description: 'The guest JSON text of the value.' })),
    error: Type.Optional(
      Type.Object(
        {
          type: Type.String({
            description: 'Exception type (NameError, MemoryError), or Timeout, MemoryLimit, Crash, ResultTooLarge.',
          }),
          message: Type.String({ description: 'The guest\'s "ExcType: message", or the host\'s explanation.' }),
          traceback: Type.Optional(
            Type.String({ description: "The guest's traceback (Python), without the sandbox's own frames." }),
          ),
        },
        { title: 'CallError', description: 'Why a call did not succeed.' },
      ),
    ),
    stdout: Type.String(),
    stderr: Type.String(),
    outputTruncated: Type.Boolean({ description: `Output past ${config.maxOutputBytes} bytes per call was cut.` }),
    durationMs: Type.Number({ description: 'Time the guest spent running code.' }),
    sandbox: Type.Enum(['ready', 'dead', 'closed'], {
      description:
        'The sandbox after the call: ready keeps its globals (also after an interrupted timeout); dead needs a reset.',
    }),
    memoryBytes: Type.Optional(
      Type.Integer({
        description: "Size of the guest's linear memory after the call, in bytes, when the host reports it.",
      }),
    ),
  };

  const RunRequest = Type.Object(
    {
      language: Type.Optional(Language),
      statements: Type.Optional(
        Type.Array(Code('Statements, run in order before the expression.'), { maxItems: config.maxStatements }),
      ),
      expression: Code('Expression whose value is returned.'),
      stdin: Type.Optional(Stdin),
      timeoutMs: Type.Optional(TimeoutMs),
      memoryLimitBytes: Type.Optional(MemoryLimitBytes),
      tmpLimitBytes: Type.Optional(TmpLimitBytes),
      files: Type.Optional(Files),
    },
    {
      additionalProperties: false,
      title: 'RunRequest',
      description: 'Statements, then an expression, in a fresh sandbox.',
    },
  );

  const RunResponse = Type.Object(
    {
      ...CallResultFields,
      language: Language,
      failedStatement: Type.Optional(
        Type.Integer({ description: 'Index of the statement that failed (exec_error etc.).' }),
      ),
      elapsedMs: Type.Number({ description: 'Wall time of the whole run, including sandbox start-up.' }),
    },
    { title: 'RunResult', description: 'The outcome of a one-shot run.' },
  );

  const Limits = Type.Object(
    { timeoutMs: Type.Integer(), memoryLimitBytes: Type.Integer(), tmpLimitBytes: Type.Integer() },
    { title: 'Limits', description: "A session's limits per call." },
  );

  const SessionCreateRequest = Type.Object(
    {
      language: Type.Optional(Language),
      timeoutMs: Type.Optional(TimeoutMs),
      memoryLimitBytes: Type.Optional(MemoryLimitBytes),
      tmpLimitBytes: Type.Optional(TmpLimitBytes),
      files: Type.Optional(Files),
    },
    { additionalProperties: false, title: 'SessionCreateRequest', description: 'Optional; defaults for every field.' },
  );

  const Session = Type.Object(
    {
      id: Type.String(),
      language: Language,
      state: Type.Enum(['ready', 'dead'], { description: 'dead after a timeout, memory trap or crash: reset it.' }),
      busy: Type.Boolean({ description: 'A call is running (on any replica, with a shared store).' }),
      parked: Type.Boolean({
        description:
          'Idle long enough to be parked: only its compressed snapshot is held; its next call restores it (a few ms).',
      }),
      deadReason: Type.Optional(Type.Object({ status: Type.Enum([...RUN_STATUSES]), message: Type.String() })),
      limits: Limits,
      calls: Type.Integer({ description: 'exec, eval and run calls made so far.' }),
      createdAt: Type.String({ format: 'date-time' }),
      lastUsedAt: Type.String({ format: 'date-time' }),
      expiresAt: Type.String({
        format: 'date-time',
        description: `Idle expiry: last use + ${config.sessionTtlMs} ms.`,
      }),
    },
    { title: 'Session', description: 'A sandbox whose globals persist between calls.' },
  );

  const ExecRequest = Type.Object(
    { statements: Code('Statements to run.'), stdin: Type.Optional(Stdin) },
    { additionalProperties: false, title: 'ExecRequest', description: 'Statements to run in a session.' },
  );
  const EvalRequest = Type.Object(
    { expression: Code('Expression to evaluate.'), stdin: Type.Optional(Stdin) },
    { additionalProperties: false, title: 'EvalRequest', description: 'An expression to evaluate in a session.' },
  );
  const CellRequest = Type.Object(
    {
      code: Code(
        "A cell: statements whose last expression's value is the result (Python: IPython's rule, no value after " +
          'a statement, a None or a trailing `;`; JavaScript: the completion value, none when undefined).',
      ),
      stdin: Type.Optional(Stdin),
    },
    { additionalProperties: false, title: 'CellRequest', description: 'A notebook cell to run in a session.' },
  );
  const SessionCallResponse = Type.Object(
    { ...CallResultFields, session: Session },
    { title: 'CallResult', description: 'The outcome of a session call, and the session afterwards.' },
  );
  const SessionParams = Type.Object({ id: Type.String({ maxLength: 100, description: 'The session id.' }) });
  const FileParams = Type.Object({
    id: Type.String({ maxLength: 100, description: 'The session id.' }),
    '*': Type.String({ description: 'The file path below /tmp (e.g. out/result.csv).' }),
  });
  const FileListQuery = Type.Object(
    {
      path: Type.Optional(
        Type.String({ description: 'The directory to list: below /tmp, relative or absolute (default /tmp).' }),
      ),
    },
    { additionalProperties: false },
  );
  const FileList = Type.Object(
    {
      path: Type.String({ description: 'The directory listed, e.g. /tmp.' }),
      entries: Type.Array(
        Type.Object(
          {
            name: Type.String(),
            type: Type.Enum(['file', 'directory', 'symlink']),
            size: Type.Optional(Type.Integer({ description: 'Bytes (files).' })),
            target: Type.Optional(
              Type.String({ description: 'Where a symlink points (symlinks resolve within /tmp only).' }),
            ),
          },
          { title: 'FileEntry', description: 'A file, directory or symlink in /tmp.' },
        ),
        { description: 'Sorted by name.' },
      ),
    },
    { title: 'FileList', description: "What a directory of a session's /tmp holds (one level)." },
  );
  const FileWritten = Type.Object(
    {
      path: Type.String({ description: 'The file written, absolute (/tmp/...).' }),
      size: Type.Integer({ description: 'Its bytes.' }),
    },
    { title: 'FileWritten', description: "A file stored in a session's /tmp." },
  );

  const LanguagesResponse = Type.Object(
    {
      default: Language,
      languages: Type.Array(
        Type.Object(
          {
            name: Language,
            package: Type.String(),
            available: Type.Boolean(),
            reason: Type.Optional(Type.String()),
          },
          { title: 'LanguageStatus', description: 'A language and whether this server can run it now.' },
        ),
      ),
    },
    { title: 'Languages', description: 'The languages this server knows.' },
  );

  const FunctionsResponse = Type.Object(
    {
      functions: Type.Array(
        Type.Object(
          {
            name: Type.String({ description: 'Callable by this name: a global of the guest, and host.<name>.' }),
            runsOn: Type.Enum(['caller', 'executor'], {
              description:
                "executor: a synchronous function of the module, run on the guest's thread; caller: an async one, run on the server's main thread.",
            }),
          },
          { title: 'HostFunction', description: 'A host function the guest code of every sandbox may call.' },
        ),
      ),
    },
    {
      title: 'Functions',
      description:
        'The host functions of this server (--functions). Arguments and results cross as JSON; bytes as {"$bytes": "<base64>"}.',
    },
  );

  const Health = Type.Object(
    { status: Type.Literal('ok') },
    { title: 'Health', description: 'The process is serving requests.' },
  );
  const Readiness = Type.Object(
    { status: Type.Literal('ready'), languages: Type.Array(Language) },
    { title: 'Readiness', description: 'Ready to serve, with the languages available now.' },
  );

  return {
    ErrorResponse,
    RunRequest,
    RunResponse,
    SessionCreateRequest,
    Session,
    ExecRequest,
    EvalRequest,
    CellRequest,
    SessionCallResponse,
    SessionParams,
    FileParams,
    FileListQuery,
    FileList,
    FileWritten,
    LanguagesResponse,
    FunctionsResponse,
    Health,
    Readiness,
  };
}

export type Schemas = ReturnType<typeof buildSchemas>;
export type RunRequest = Static<Schemas['RunRequest']>;
export type RunResponse = Static<Schemas['RunResponse']>;
export type SessionCreateRequest = Static<Schemas['SessionCreateRequest']>;
export type SessionView = Static<Schemas['Session']>;
