/**
 * Finding the default guest of a language: its prebuilt guest package, loaded by name. The
 * import runs in the adapter's module (passed in as `importPackage`), because only the adapter
 * depends on the guest packages; the host does not.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { GUEST_PACKAGES, MANIFEST_FILE, type Language } from '@component-sandbox/wit';

/** The guest for a language is not installed, or installed but not built. */
export class GuestUnavailableError extends Error {
  override name = 'GuestUnavailableError';
  constructor(
    readonly language: Language,
    message: string,
  ) {
    super(message);
  }
}

/** `(name) => import(name)`, written in the adapter so the package resolves from there. */
export type PackageImporter = (packageName: string) => Promise<unknown>;

/**
 * The artifact directory of `language`'s guest: `overrideDir` when given (a custom guest),
 * else the one its guest package exports. Throws GuestUnavailableError saying what to do.
 */
export async function findGuestArtifact(
  language: Language,
  importPackage: PackageImporter,
  overrideDir?: string,
): Promise<string> {
  const packageName = GUEST_PACKAGES[language];
  let dir = overrideDir;
  if (dir === undefined) {
    try {
      ({ artifactDir: dir } = (await importPackage(packageName)) as { artifactDir: string });
    } catch {
      throw new GuestUnavailableError(
        language,
        `the ${language} guest is not installed (package ${packageName}); install it, or name an artifact directory`,
      );
    }
  }
  try {
    await access(join(dir, MANIFEST_FILE));
  } catch {
    throw new GuestUnavailableError(
      language,
      overrideDir === undefined
        ? `the ${language} guest is not built (no ${MANIFEST_FILE} in ${dir}); run \`pnpm --filter ${packageName} build\``
        : `${dir} is not a guest artifact (no ${MANIFEST_FILE}); build one with component-sandbox-build`,
    );
  }
  return dir;
}
