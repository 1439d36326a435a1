/**
 * Which guest artifact serves each language: the prebuilt guest packages, found by package name
 * (as the CLI finds them), unless the configuration names an artifact directory. A guest that is
 * not installed or not built is reported as unavailable, never as a server error.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';

export const LANGUAGES = ['python', 'javascript'] as const;
export type Language = (typeof LANGUAGES)[number];

export const GUEST_PACKAGES: Record<Language, string> = {
  python: '@component-sandbox/guest-python',
  javascript: '@component-sandbox/guest-javascript',
};

export interface LanguageStatus {
  name: Language;
  /** Guest package the language comes from. */
  package: string;
  available: boolean;
  /** Why it is unavailable. */
  reason?: string;
}

export class GuestUnavailableError extends Error {
  override name = 'GuestUnavailableError';
  constructor(
    readonly language: Language,
    message: string,
  ) {
    super(message);
  }
}

export class GuestRegistry {
  readonly #found = new Map<Language, string>();

  constructor(private readonly overrides: Partial<Record<Language, string>> = {}) {}

  /** The artifact directory of `language`'s guest; throws GuestUnavailableError. */
  async artifactDir(language: Language): Promise<string> {
    const known = this.#found.get(language);
    if (known) return known;
    const packageName = GUEST_PACKAGES[language];
    let dir = this.overrides[language];
    if (dir === undefined) {
      try {
        ({ artifactDir: dir } = (await import(packageName)) as { artifactDir: string });
      } catch {
        throw new GuestUnavailableError(
          language,
          `the ${language} guest is not installed (package ${packageName})` +
            (language === 'python' ? '; the Python guest may not be built yet' : ''),
        );
      }
    }
    try {
      await access(join(dir, 'manifest.json'));
    } catch {
      throw new GuestUnavailableError(
        language,
        `the ${language} guest is not built (no manifest.json in ${dir}); run \`pnpm --filter ${packageName} build\``,
      );
    }
    this.#found.set(language, dir);
    return dir;
  }

  /** Forgets a directory that turned out to be unusable (e.g. a corrupt artifact). */
  forget(language: Language): void {
    this.#found.delete(language);
  }

  async status(): Promise<LanguageStatus[]> {
    return Promise.all(
      LANGUAGES.map(async (name): Promise<LanguageStatus> => {
        try {
          await this.artifactDir(name);
          return { name, package: GUEST_PACKAGES[name], available: true };
        } catch (error) {
          return { name, package: GUEST_PACKAGES[name], available: false, reason: (error as Error).message };
        }
      }),
    );
  }
}
