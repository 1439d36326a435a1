import { fileURLToPath } from 'node:url';

/** Directory of the built artifact (manifest.json, glue, core modules, stdlib); pass it to the host. */
export const artifactDir = fileURLToPath(new URL('./artifact', import.meta.url));
export const language = 'python';
