/**
 * Progress for long reload phases: counts, bytes, rate and ETA on stderr, at most every few seconds.
 */
import { progress as say } from '../log';
import { formatBytes } from '../util';

export class PhaseProgress {
  private done = 0;
  private bytes = 0;
  private lastPrint = 0;
  private readonly t0: number;

  constructor(private readonly phase: string, private readonly total: { objects?: number; bytes?: number }, private readonly now: () => number = Date.now, private readonly everyMs = 5000) {
    this.t0 = now();
  }

  add(objects: number, bytes: number): void {
    this.done += objects;
    this.bytes += bytes;
    const t = this.now();
    if (t - this.lastPrint >= this.everyMs) {
      this.lastPrint = t;
      say(this.line());
    }
  }

  /** `recordings: 1200/2000 objects, 120.0 MiB/204.0 MiB, 40.0 MiB/s, ETA 2 s`. */
  line(): string {
    const seconds = Math.max((this.now() - this.t0) / 1000, 0.001);
    const rate = this.bytes / seconds;
    const of = (n: number, total: number | undefined, fmt: (n: number) => string): string => (total !== undefined ? `${fmt(n)}/${fmt(total)}` : fmt(n));
    let eta = '';
    if (this.total.bytes && rate > 0) eta = `, ETA ${Math.max(0, Math.round((this.total.bytes - this.bytes) / rate))} s`;
    else if (this.total.objects && this.done > 0) eta = `, ETA ${Math.max(0, Math.round(((this.total.objects - this.done) * seconds) / this.done))} s`;
    return `${this.phase}: ${of(this.done, this.total.objects, String)} objects, ${of(this.bytes, this.total.bytes, formatBytes)}, ${formatBytes(rate)}/s${eta}`;
  }

  get counts(): { objects: number; bytes: number; seconds: number } {
    return { objects: this.done, bytes: this.bytes, seconds: (this.now() - this.t0) / 1000 };
  }
}
