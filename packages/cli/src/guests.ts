/** Which guest artifact each language uses: a directory the user names, else its guest package. */
import { findGuestArtifact, type Language } from '@component-sandbox/host';

export { LANGUAGES, GuestUnavailableError, type Language } from '@component-sandbox/host';

export function guestArtifactDir(language: Language, overrideDir?: string): Promise<string> {
  return findGuestArtifact(language, (name) => import(name), overrideDir);
}
