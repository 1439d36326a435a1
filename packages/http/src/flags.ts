/**
 * Command line flags and environment variables -> a partial ServerConfig, both generated from the
 * settings table (commander parses the flags). A flag given on the command line wins over its
 * variables; a bad flag is a CommanderError, a bad variable a ConfigError naming the variable.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, type ServerConfig } from './config.js';
import { ENV_PREFIX, SETTING_KEYS, defaultText, envName, row, type SettingKey } from './settings.js';

function describe(key: SettingKey): string {
  const r = row(key);
  const variables = r.env.map(envName).join(', ');
  if (r.negatable) return `${r.help} [env: ${variables}=1]`;
  return `${r.help} (default: ${defaultText(key)}) [env: ${variables}]`;
}

function optionFor(key: SettingKey): Option {
  const r = row(key);
  const option = new Option(r.flags, describe(key));
  if (!r.negatable) {
    option.argParser((text: string, previous: unknown) => {
      try {
        return r.parse(text, r.repeatable ? previous : undefined);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
    });
  }
  return option;
}

export function buildProgram(): Command {
  const program = new Command()
    .name('component-sandbox-http')
    .description(
      'Serve component-sandbox over HTTP: one-shot runs and sessions of Python or JavaScript in WebAssembly sandboxes.',
    );
  for (const key of SETTING_KEYS) program.addOption(optionFor(key));
  return program
    .addHelpText(
      'after',
      `
Every option can also be set with the environment variable shown ([env: ...]); a flag on the
command line wins over its variable. Durations: 500ms, 5s, 2m or milliseconds; sizes: 512KiB,
20MiB, 1GiB or bytes.

Without API keys the server only binds to a loopback address (127.0.0.1, ::1, localhost) and
refuses anything else with exit code 2.

Exit codes: 0 after a clean shutdown (SIGTERM, SIGINT), 1 if the server fails, 2 for a bad
command line or configuration.

Examples:
  component-sandbox-http --port 8080
  ${ENV_PREFIX}API_KEYS=$(openssl rand -hex 24) component-sandbox-http --host 0.0.0.0
  component-sandbox-http --default-language javascript --max-concurrent-runs 4 --session-ttl 10m`,
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
}

/** The value of `key` from its environment variables, or undefined when none is set. */
function fromEnv(key: SettingKey, env: NodeJS.ProcessEnv): unknown {
  const r = row(key);
  let value: unknown;
  for (const variable of r.env) {
    const text = env[envName(variable)];
    if (text === undefined || (text === '' && !r.negatable)) continue;
    try {
      value = r.parse(text, value, variable);
    } catch (error) {
      throw new ConfigError(`${envName(variable)}: ${(error as Error).message}`);
    }
  }
  return value;
}

/**
 * `argv` as process.argv (node, script, ...flags); `env` for the variables. Throws commander's
 * CommanderError (with exitCode; 0 for --help) on a bad command line after writing the message
 * to `output` (default: stdout/stderr), and ConfigError for a bad variable.
 */
export function parseFlags(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  output?: { writeOut: (text: string) => void; writeErr: (text: string) => void },
): Partial<ServerConfig> {
  const program = buildProgram();
  if (output) program.configureOutput(output);
  program.parse(argv);
  const options = program.opts();
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of SETTING_KEYS) {
    const attribute = program.options.find((o) => o.flags === row(key).flags)!.attributeName();
    if (program.getOptionValueSource(attribute) === 'cli') {
      config[key] = options[attribute];
      continue;
    }
    try {
      const value = fromEnv(key, env);
      if (value !== undefined) config[key] = value;
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return config as Partial<ServerConfig>;
}
