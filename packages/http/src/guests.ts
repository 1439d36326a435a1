/**
 * Which guest artifact serves each language: the prebuilt guest packages, found by package name
 * (as the CLI finds them), unless the configuration names an artifact directory. A guest that is
 * not installed or not built is reported as unavailable, never as a server error.
 */
import {
  findGuestArtifact,
  GUEST_PACKAGES,
  GuestUnavailableError,
  LANGUAGES,
  type Language,
} from '@component-sandbox/host';

export { GUEST_PACKAGES, GuestUnavailableError, LANGUAGES, type Language };

export interface LanguageStatus {
  name: Language;
  /** Guest package the language comes from. */
  package: string;
  available: boolean;
  /** Why it is unavailable. */
  reason?: string;
}

export class GuestRegistry {
  readonly #found = new Map<Language, string>();

  constructor(private readonly overrides: Partial<Record<Language, string>> = {}) {}

  /** The artifact directory of `language`'s guest; throws GuestUnavailableError. */
  async artifactDir(language: Language): Promise<string> {
    const known = this.#found.get(language);
    if (known) return known;
    const dir = await findGuestArtifact(language, (name) => import(name), this.overrides[language]);
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
