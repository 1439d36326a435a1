/** Which guest artifact each language uses: the prebuilt guest packages, found by name. */
import { access } from 'node:fs/promises';
import { join } from 'node:path';

export const LANGUAGES = ['python', 'javascript'] as const;
export type Language = (typeof LANGUAGES)[number];

const GUEST_PACKAGES: Record<Language, string> = {
  python: '@component-sandbox/guest-python',
  javascript: '@component-sandbox/guest-javascript',
};

export class GuestUnavailableError extends Error {
  override name = 'GuestUnavailableError';
}

export async function guestArtifactDir(language: Language): Promise<string> {
  const packageName = GUEST_PACKAGES[language];
  let artifactDir: string;
  try {
    ({ artifactDir } = (await import(packageName)) as { artifactDir: string });
  } catch {
    throw new GuestUnavailableError(
      `the ${language} guest is not installed (package ${packageName}); ` +
        (language === 'python' ? 'the Python guest is not built yet' : `install ${packageName}`),
    );
  }
  try {
    await access(join(artifactDir, 'manifest.json'));
  } catch {
    throw new GuestUnavailableError(
      `the ${language} guest is not built yet (no artifact in ${artifactDir}); ` +
        `run \`pnpm --filter ${packageName} build\``,
    );
  }
  return artifactDir;
}
