// `pnpm run pack [--out DIR]` at the root (default ./packs): tarballs of the public packages only. (`pnpm -r pack`
// packs private workspace packages too: tools, benchmarks, the CPython build.)
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { packAll } from './pack.mjs';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'packs' } } });
const destination = resolve(values.out);
for (const pack of await packAll(destination)) console.log(pack.tarball);
