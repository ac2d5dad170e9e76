/**
 * The reload's journal: an append-only NDJSON file that makes a reload resumable and keeps it from
 * ever destroying data it did not write. It records which target resources this reload created
 * (`owned`: only those may be emptied again or written to on a re-run) and which units are done.
 * One journal per night, manifest and target: a re-run after a crash reads it and continues.
 */
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from '../errors';
import { sha256Hex } from '../util';

type JournalLine =
  | { readonly type: 'start'; readonly night: string; readonly manifestSha256: string; readonly at: string }
  | { readonly type: 'owned'; readonly resource: string; readonly at: string }
  | { readonly type: 'done'; readonly unit: string; readonly detail?: Record<string, unknown>; readonly at: string }
  | { readonly type: 'note'; readonly unit: string; readonly detail: Record<string, unknown>; readonly at: string };

export class ReloadJournal {
  private readonly ownedResources = new Set<string>();
  private readonly doneUnits = new Map<string, Record<string, unknown> | undefined>();
  private readonly notes = new Map<string, Record<string, unknown>>();
  /** Whether the journal existed before this run (a resume). */
  readonly resumed: boolean;

  private constructor(readonly path: string, lines: JournalLine[], private readonly now: () => Date) {
    this.resumed = lines.length > 0;
    for (const l of lines) {
      if (l.type === 'owned') this.ownedResources.add(l.resource);
      else if (l.type === 'done') this.doneUnits.set(l.unit, l.detail);
      else if (l.type === 'note') this.notes.set(l.unit, l.detail);
    }
  }

  /**
   * Opens (or starts) the journal for this night + manifest + target under `dir`. A journal for the
   * same night and target but another manifest is refused: the night changed under the reload.
   */
  static open(dir: string, night: string, manifestSha256: string, targetText: string, now: () => Date = () => new Date()): ReloadJournal {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `reload-${night}-${sha256Hex(targetText).slice(0, 12)}.ndjson`);
    const lines: JournalLine[] = existsSync(path)
      ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as JournalLine)
      : [];
    const start = lines.find((l) => l.type === 'start') as Extract<JournalLine, { type: 'start' }> | undefined;
    if (start && start.manifestSha256 !== manifestSha256) {
      throw new RuntimeError(`reload journal ${path} belongs to night ${start.night} with manifest ${start.manifestSha256}, but the manifest is now ${manifestSha256}. Fix: reload into a new target, or move the journal away if the earlier reload's target was emptied by hand.`);
    }
    const j = new ReloadJournal(path, lines, now);
    if (!start) j.append({ type: 'start', night, manifestSha256, at: now().toISOString() });
    return j;
  }

  private append(line: JournalLine): void {
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
    const fd = openSync(this.path, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  }

  owns(resource: string): boolean { return this.ownedResources.has(resource); }

  markOwned(resource: string): void {
    if (this.ownedResources.has(resource)) return;
    this.append({ type: 'owned', resource, at: this.now().toISOString() });
    this.ownedResources.add(resource);
  }

  isDone(unit: string): boolean { return this.doneUnits.has(unit); }
  doneDetail(unit: string): Record<string, unknown> | undefined { return this.doneUnits.get(unit); }

  markDone(unit: string, detail?: Record<string, unknown>): void {
    this.append({ type: 'done', unit, detail, at: this.now().toISOString() });
    this.doneUnits.set(unit, detail);
  }

  note(unit: string): Record<string, unknown> | undefined { return this.notes.get(unit); }

  setNote(unit: string, detail: Record<string, unknown>): void {
    this.append({ type: 'note', unit, detail, at: this.now().toISOString() });
    this.notes.set(unit, detail);
  }
}
