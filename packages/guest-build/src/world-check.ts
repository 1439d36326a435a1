import { stat } from 'node:fs/promises';
import { GuestBuildError, describeToolError } from './errors.js';
import { jcoWasmTools } from './jco-tools.js';

/**
 * Fails with a clear error unless `witDir` parses and defines `world`. Embedding the world
 * into a dummy module is the cheapest way to make wasm-tools resolve it.
 */
export async function assertWorldExists(witDir: string, world: string): Promise<void> {
  const info = await stat(witDir).catch(() => undefined);
  if (!info) throw new GuestBuildError('WIT_INVALID', `WIT path not found: ${witDir}`);
  const { componentEmbed } = await jcoWasmTools();
  try {
    await componentEmbed({ dummy: true, witPath: witDir, world });
  } catch (error) {
    const detail = describeToolError(error);
    if (/world .* not found|no world named|failed to find world/i.test(detail)) {
      throw new GuestBuildError(
        'WORLD_NOT_FOUND',
        `The WIT at ${witDir} does not define world \`${world}\`.\n${detail}`,
      );
    }
    throw new GuestBuildError('WIT_INVALID', `The WIT at ${witDir} could not be read:\n${detail}`, { cause: error });
  }
}
