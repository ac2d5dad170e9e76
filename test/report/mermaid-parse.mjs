// Parses a Mermaid diagram read from stdin with mermaid's own parser and prints
// {"ok":true,"diagramType":...} or {"ok":false,"error":...} (exit 0 either way; 2 on a crash).
// mermaid.parse needs DOMPurify, which needs a DOM: jsdom provides one (mermaid-js/mermaid#6531).
import { JSDOM } from 'jsdom';

const { window } = new JSDOM('');
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import('mermaid');

let text = '';
for await (const chunk of process.stdin) text += chunk;
try {
  const result = await mermaid.parse(text);
  process.stdout.write(`${JSON.stringify({ ok: true, diagramType: result.diagramType })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(error.message ?? error).split('\n').slice(0, 3).join(' ') })}\n`);
}
