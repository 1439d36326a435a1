// Rewrites the README's settings section from the settings table (run after `pnpm build`).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';
import { replaceSettingsSection } from '../dist/settings-doc.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const text = replaceSettingsSection(await readFile(readme, 'utf8'));
const options = (await prettier.resolveConfig(readme)) ?? {};
await writeFile(readme, await prettier.format(text, { ...options, filepath: readme }));
console.log(`wrote the settings section of ${readme}`);
