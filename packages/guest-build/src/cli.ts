import { Command, InvalidArgumentError } from 'commander';
import { EXTENDED_WORLD_NAME, LANGUAGES, WORLD_NAMES, isLanguage, type WorldName } from '@component-sandbox/wit';
import type { GuestLanguage } from './backend.js';
import { buildGuest } from './build.js';
import { GuestBuildError } from './errors.js';
import { allBackends } from './backends/registry.js';

function parseWorld(value: string): WorldName {
  if (!(WORLD_NAMES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of: ${WORLD_NAMES.join(', ')}`);
  }
  return value as WorldName;
}

function parseLanguage(value: string): GuestLanguage {
  if (!isLanguage(value)) throw new InvalidArgumentError(`expected one of: ${LANGUAGES.join(', ')}`);
  return value;
}

const program = new Command()
  .name('component-sandbox-build')
  .description('Build a sandbox guest source into a WebAssembly component artifact the host can load.')
  .requiredOption('-l, --lang <language>', `guest language (${LANGUAGES.join(', ')})`, parseLanguage)
  .requiredOption('-s, --source <file>', 'guest source file (guest.py, guest.js)')
  .requiredOption('-o, --out <dir>', 'artifact directory to write (replaced if it exists)')
  .option(
    '-i, --include <path>',
    'Python only: a module (*.py) or package directory to ship beside the source, importable by it (repeatable)',
    (path: string, previous: string[] = []) => [...previous, path],
  )
  .option('-p, --packages <dir>', 'Python only: a directory of pure-Python packages to bake into the guest')
  .option(
    '--preload <modules>',
    'Python only: comma-separated modules to import at build time, so they import instantly in every sandbox',
    (value: string) =>
      value
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== ''),
  )
  .option('-w, --wit <dir>', 'WIT directory defining the world (default: the contract in @component-sandbox/wit)')
  .option(
    '--world <name>',
    `world to build for (${WORLD_NAMES.join(', ')}; default ${EXTENDED_WORLD_NAME}: host functions and cells)`,
    parseWorld,
  )
  .option(
    '-b, --backend <name>',
    `backend (${allBackends()
      .map((b) => b.name)
      .join(', ')}); default: first available`,
  )
  .option('-q, --quiet', 'no progress output')
  .addHelpText('after', '\nExit codes: 0 built, 1 the build failed (message on stderr), 2 bad command line.')
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

program.parse();
const options = program.opts<{
  lang: GuestLanguage;
  source: string;
  out: string;
  include?: string[];
  packages?: string;
  preload?: string[];
  wit?: string;
  world?: WorldName;
  backend?: string;
  quiet?: boolean;
}>();

const started = Date.now();
const log = options.quiet
  ? () => {}
  : (message: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);

try {
  const result = await buildGuest({
    source: options.source,
    language: options.lang,
    outDir: options.out,
    ...(options.include ? { include: options.include } : {}),
    ...(options.packages ? { packages: options.packages } : {}),
    ...(options.preload ? { preload: options.preload } : {}),
    ...(options.wit ? { witDir: options.wit } : {}),
    ...(options.world ? { world: options.world } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    log,
  });
  process.stdout.write(`${result.outDir}\n`);
} catch (error) {
  if (error instanceof GuestBuildError) {
    process.stderr.write(`component-sandbox-build: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
