import { packAll } from './pack.mjs';

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
for (const pack of await packAll()) {
  const verdict = pack.bytes <= pack.budget ? 'ok' : 'OVER BUDGET';
  console.log(`${pack.name.padEnd(40)} ${mib(pack.bytes).padStart(10)}  budget ${mib(pack.budget)}  ${verdict}`);
}
