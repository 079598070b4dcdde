// Parse Mermaid diagrams with mermaid's own parser (mermaid.parse), under jsdom for the DOM it
// expects. Arguments: .mmd files, or .md files whose ```mermaid blocks are checked one by one.
// Prints PASS/FAIL per diagram and exits 1 when any fails.
import { JSDOM } from 'jsdom';
import fs from 'node:fs';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');

function diagrams(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (!file.endsWith('.md')) return [[file, text]];
  const out = [];
  const re = /```mermaid\n([\s\S]*?)```/g;
  let m;
  for (let i = 1; (m = re.exec(text)); i++) out.push([`${file}#${i}`, m[1]]);
  return out;
}

let failed = 0;
let passed = 0;
for (const file of process.argv.slice(2)) {
  for (const [name, text] of diagrams(file)) {
    try {
      await mermaid.parse(text);
      passed++;
      console.log(`PASS mermaid ${name}`);
    } catch (e) {
      failed++;
      const msg = String(e?.message ?? e).split('\n').slice(0, 4).join(' ');
      console.log(`FAIL mermaid ${name} ${msg}`);
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
