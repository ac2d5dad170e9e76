/**
 * The reload's check before it loads anything: the night's manifest parses (format v2), links to
 * the previous night's manifest bytes, every dataset's export completed, and every file the
 * manifest lists (exports and index files) has its size and SHA-256. Every blob is hashed again as
 * it is loaded (a mismatch stops the reload), so nothing unverified reaches the target.
 */
import { naming } from '../../core';
import { RuntimeError } from '../errors';
import { JobFailure } from '../log';
import { checkNightFiles, listNights, readManifestV2, readNight, type BadObject, type NightReader } from '../format';
import { latestVerifiedNight } from '../records';
import type { ObjectStore } from '../stores/types';
import { ObjectNotFoundError } from '../stores/types';
import { sha256Hex } from '../util';

/** `YYYY-MM-DD`, `latest-verified` (newest night the counterparty verified) or `latest`. */
export async function selectNight(store: ObjectStore, recordsStore: ObjectStore, selector: string): Promise<string> {
  if (selector === 'latest-verified') {
    const found = await latestVerifiedNight(store, recordsStore);
    if (!found) throw new RuntimeError(`reload: ${recordsStore.url} has no verified night. Fix: run verify on the counterparty first, or name a night with --night YYYY-MM-DD.`);
    return found.night;
  }
  if (selector === 'latest') {
    const nights = await listNights(store);
    if (!nights.length) throw new RuntimeError(`reload: ${store.url} holds no night (no nights/<night>/manifest.json).`);
    return nights[nights.length - 1];
  }
  if (!naming.isNightId(selector)) throw new RuntimeError(`reload: --night ${JSON.stringify(selector)} is not YYYY-MM-DD, latest-verified or latest.`);
  return selector;
}

async function chainProblems(store: ObjectStore, reader: NightReader): Promise<BadObject[]> {
  const prev = reader.manifest.previous;
  if (!prev) return [];
  const key = naming.manifestKey(prev.night);
  try {
    const bytes = await store.getBytes(key);
    const sha = sha256Hex(bytes);
    return sha === prev.sha256 ? [] : [{ key, problem: `chain: ${reader.key} links to sha256 ${prev.sha256}, found ${sha}` }];
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return [];  // expired by retention: the link cannot be checked, which is not a fault
    throw err;
  }
}

/** Opens and checks the night; throws a RuntimeError naming every bad object. */
export async function verifyNightForReload(store: ObjectStore, night: string): Promise<NightReader> {
  await readManifestV2(store, night); // parse errors (and v1) surface with their own message
  const reader = await readNight(store, night);
  const bad: BadObject[] = [];
  for (const d of reader.datasets) if (d.status !== 'ok') bad.push({ key: d.prefix, problem: `dataset ${d.name}: export ${d.status}${d.reason ? ` (${d.reason})` : ''}` });
  bad.push(...(await checkNightFiles(store, reader.manifest)).bad, ...(await chainProblems(store, reader)));
  if (bad.length) {
    const list = bad.slice(0, 20).map((b) => `${b.key}: ${b.problem}`).join('; ');
    throw new JobFailure('verification-failed', `reload: night ${night} in ${store.url} is not sound, refusing to load it (${bad.length} bad: ${list}${bad.length > 20 ? '; …' : ''}). Fix: choose another night with --night, e.g. latest-verified.`, { night, bad: bad.slice(0, 20) });
  }
  return reader;
}
