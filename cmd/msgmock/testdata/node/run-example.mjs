// Runs one seed example file against msgmock: node run-example.mjs FILE BASE_URL
//
// The example's text is used as the seed document prints it; only its base
// URL is swapped. TypeScript is transpiled (types stripped) with the
// typescript package. console.log is made to print JSON so the Go test can
// check the shape of what the example logged.
import { readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [file, base] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
let src = readFileSync(file, 'utf8').replaceAll('https://api.example-ai.com', base);
if (file.endsWith('.ts')) {
  const ts = (await import('typescript')).default;
  src = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
}
console.log = (...args) => process.stdout.write(JSON.stringify(args.length === 1 ? args[0] : args) + '\n');
// Written beside node_modules so that `import axios from 'axios'` resolves.
const out = join(here, `.example-${process.pid}.mjs`);
writeFileSync(out, src);
try {
  await import(pathToFileURL(out).href);
} finally {
  unlinkSync(out);
}
