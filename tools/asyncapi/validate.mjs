// Parse an AsyncAPI document with the official parser; exit 1 on any error.
// Usage: node tools/asyncapi/validate.mjs docs/asyncapi.yaml
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Parser, fromFile } from '@asyncapi/parser';

const file = resolve(process.argv[2] ?? 'docs/asyncapi.yaml');
const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, file).parse();
const names = ['error', 'warning', 'information', 'hint'];
const counts = { error: 0, warning: 0, information: 0, hint: 0 };
for (const d of diagnostics) {
  const level = names[d.severity] ?? 'error';
  counts[level] += 1;
  console.log(`${level} ${d.code} ${d.path.join('.')}: ${d.message}`);
}
console.log(`errors=${counts.error} warnings=${counts.warning} info=${counts.information} hints=${counts.hint}`);
process.exit(counts.error === 0 && document ? 0 : 1);
