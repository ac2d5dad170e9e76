/**
 * Key order and small helpers shared by the format v2 reader and writer.
 */

/**
 * Compares two keys by their UTF-8 bytes (the order S3, GCS and Azure list in) without encoding them:
 * UTF-16 code units compare like UTF-8 bytes except that surrogates (code points >= U+10000) sort
 * after U+E000..U+FFFF, so they are lifted above the BMP before comparing.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

function rank(c: number): number {
  return c >= 0xd800 && c <= 0xdfff ? c + 0x10000 : c;
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` night. */
export function nightDayNumber(night: string): number {
  const t = Date.parse(`${night}T00:00:00Z`);
  if (Number.isNaN(t)) throw new Error(`not a night: ${JSON.stringify(night)}`);
  return Math.floor(t / 86_400_000);
}
