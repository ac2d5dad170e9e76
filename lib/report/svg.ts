/**
 * Renders the topology's DOT with Graphviz `dot` (Debian package `graphviz`,
 * installed by scripts/ci-prereqs.sh). Kept apart from the pure modules: this
 * one starts a process.
 */
import { execFileSync } from 'node:child_process';

export class RendererMissingError extends Error {
  constructor(detail: string) {
    super(`Graphviz \`dot\` is not available (${detail}); install it with \`bash scripts/ci-prereqs.sh\` (Debian package graphviz)`);
    this.name = 'RendererMissingError';
  }
}

/** The SVG `dot -Tsvg` makes of `dot`; throws {@link RendererMissingError} when `dot` is not on PATH. */
export function renderSvg(dot: string, dotBinary = process.env.CP_DOT_BINARY ?? 'dot'): string {
  try {
    return execFileSync(dotBinary, ['-Tsvg'], { input: dot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new RendererMissingError(`${dotBinary}: not found on PATH`);
    throw new Error(`dot -Tsvg failed: ${(e.stderr ?? e.message).toString().trim().split('\n')[0]}`);
  }
}
