// Render TeX to HTML with KaTeX for the MkDocs build (see hooks/katex.py).
// Reads one JSON request per line on stdin: {"tex": "...", "display": true|false}
// and writes one JSON answer per line: {"html": "..."} or {"error": "..."}. Only the HTML is kept:
// hooks/katex.py gives each formula its TeX as an aria-label for screen readers.
import katex from "katex";
import { createInterface } from "node:readline";

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const { tex, display } = JSON.parse(line);
  let answer;
  try {
    answer = { html: katex.renderToString(tex, { displayMode: display, throwOnError: true, output: "html" }) };
  } catch (error) {
    answer = { error: String(error.message ?? error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
