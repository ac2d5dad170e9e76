/**
 * The image mirror (lib/runtime/mirror.ts) against a fake skopeo (a script that records its argv and
 * keeps two "registries" in a JSON file, refusing to re-point an existing tag as Artifact Registry's
 * immutable tags do), against the real skopeo between two local OCI layouts, and the keyless GCP
 * wiring against a fake metadata server and moto's STS.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import { createServer, type Server } from 'http';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import {
  checkImagesPresent, copyImage, digestAt, idTokenClaims, imagesCheckFromEnv, keepReleasesFromEnv, manifestDigest, mirrorImages, parseImage, runMirrorCommand,
  selectReleases, skopeoAt, writeAuthFile,
} from '../../lib/runtime/mirror';
import { setLogSink } from '../../lib/runtime/log';
import { startMoto, type MotoService } from '../../scripts/services';

const SRC = '111122223333.dkr.ecr.eu-central-1.amazonaws.com';
const DST = 'europe-west3-docker.pkg.dev/acme-cc-dr/acme-cc-images';

/** The fake: `registries["<registry>/<repo>"][tag] = manifest text`; argv appended to the log, one JSON array per line. */
const FAKE = `#!/usr/bin/env node
const fs = require('fs');
const crypto = require('crypto');
const args = process.argv.slice(2);
const authAt = args.indexOf('--authfile');
const authfile = authAt >= 0 && fs.existsSync(args[authAt + 1]) ? JSON.parse(fs.readFileSync(args[authAt + 1], 'utf8')) : null;
fs.appendFileSync(process.env.FAKE_SKOPEO_LOG, JSON.stringify({ args, awsKey: process.env.AWS_ACCESS_KEY_ID || null, authfile }) + '\\n');
const state = JSON.parse(fs.readFileSync(process.env.FAKE_SKOPEO_STATE, 'utf8'));
const save = () => fs.writeFileSync(process.env.FAKE_SKOPEO_STATE, JSON.stringify(state));
const digest = (text) => 'sha256:' + crypto.createHash('sha256').update(text).digest('hex');
const positional = args.slice(1).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] === '--authfile'));
function parse(ref) {
  const m = /^docker:\\/\\/(.+?)(?:@(sha256:[0-9a-f]{64})|:([\\w][\\w.-]*))?$/.exec(ref);
  if (!m) { process.stderr.write('bad ref ' + ref); process.exit(1); }
  const name = m[1];
  const host = name.split('/')[0];
  if ((state.denied || []).includes(host)) { process.stderr.write('unauthorized: authentication required'); process.exit(1); }
  return { repo: name, digest: m[2], tag: m[3] };
}
function lookup(r) {
  const tags = state.registries[r.repo] || {};
  if (r.tag) return tags[r.tag];
  return Object.values(tags).find((t) => digest(t) === r.digest);
}
const cmd = args[0];
if (cmd === 'list-tags') {
  const r = parse(positional[0]);
  if (!state.registries[r.repo]) { process.stderr.write('repository name not known to registry: name unknown'); process.exit(1); }
  process.stdout.write(JSON.stringify({ Repository: r.repo, Tags: Object.keys(state.registries[r.repo]) }));
} else if (cmd === 'inspect') {
  const m = lookup(parse(positional[0]));
  if (m === undefined) { process.stderr.write('reading manifest: manifest unknown'); process.exit(1); }
  process.stdout.write(m);
} else if (cmd === 'copy') {
  const from = parse(positional[0]);
  const to = parse(positional[1]);
  const m = lookup(from);
  if (m === undefined) { process.stderr.write('manifest unknown'); process.exit(1); }
  state.registries[to.repo] = state.registries[to.repo] || {};
  const there = state.registries[to.repo][to.tag];
  if (there !== undefined && there !== m) { process.stderr.write('tag ' + to.tag + ' is immutable'); process.exit(1); }
  state.registries[to.repo][to.tag] = m;
  save();
} else { process.stderr.write('unknown command ' + cmd); process.exit(1); }
`;

let dir: string;
let fake: string;
let statePath: string;
let logPath: string;

const manifest = (name: string) => JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', annotations: { name } });
const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

function setState(registries: Record<string, Record<string, string>>, denied: string[] = []): void {
  fs.writeFileSync(statePath, JSON.stringify({ registries, denied }));
  fs.writeFileSync(logPath, '');
}
const state = (): Record<string, Record<string, string>> => JSON.parse(fs.readFileSync(statePath, 'utf8')).registries;
const calls = (): { args: string[]; awsKey: string | null; authfile: any }[] => fs.readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const skopeo = () => skopeoAt(fake, { FAKE_SKOPEO_STATE: statePath, FAKE_SKOPEO_LOG: logPath });

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-mirror-test-'));
  fake = path.join(dir, 'fake-skopeo');
  fs.writeFileSync(fake, FAKE, { mode: 0o755 });
  statePath = path.join(dir, 'state.json');
  logPath = path.join(dir, 'argv.log');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('selectReleases', () => {
  test('the newest N release tags, newest first, ignoring moving tags', () => {
    expect(selectReleases(['1.0.0', '1.10.0', '1.2.0', 'latest', 'stable', '1.9.1', 'v2.0.0-rc1', '2.0.0'], '2.0.0', 3)).toEqual(['2.0.0', 'v2.0.0-rc1', '1.10.0']);
  });
  test('the plan tag is always kept, even when older than the newest N or a moving tag', () => {
    expect(selectReleases(['1.0.0', '1.1.0', '1.2.0'], '1.0.0', 2)).toEqual(['1.0.0', '1.2.0', '1.1.0']);
    expect(selectReleases(['1.0.0', 'stable'], 'stable', 5)).toEqual(['stable', '1.0.0']);
  });
  test('keepReleases below 1 is refused', () => {
    expect(() => selectReleases(['1.0.0'], '1.0.0', 0)).toThrow(/at least 1/);
  });
});

test('parseImage refuses a registry host or a digest in a plan image', () => {
  expect(parseImage('contact-centre-app:2.3.1')).toEqual({ repository: 'contact-centre-app', tag: '2.3.1' });
  expect(() => parseImage('ghcr.io:443/x')).toThrow(/repository>:<tag/);
  expect(() => parseImage('app@sha256:abc')).toThrow();
  expect(() => parseImage('ghcr.io/org/app:1.0.0')).toThrow(/no registry host/);
  expect(parseImage('org/app:1.0.0')).toEqual({ repository: 'org/app', tag: '1.0.0' });
});

describe('mirrorImages (fake skopeo)', () => {
  const app = { '2.3.0': manifest('app 2.3.0'), '2.3.1': manifest('app 2.3.1'), stable: manifest('app 2.3.1') };
  const jobs = { '0.1.0': manifest('jobs 0.1.0') };

  test('copies every plan image BY DIGEST with --all --preserve-digests, then checks presence', async () => {
    setState({ [`${SRC}/contact-centre-app`]: app, [`${SRC}/counterparty-jobs`]: jobs });
    const r = await mirrorImages({ source: SRC, destination: DST, images: ['contact-centre-app:2.3.1', 'counterparty-jobs:0.1.0'], keepReleases: 5, authFile: '/run/auth.json', skopeo: skopeo() });
    expect(r.result).toBe('success');
    expect(r.missing).toEqual([]);
    const copies = calls().filter((c) => c.args[0] === 'copy').map((c) => c.args);
    expect(copies).toContainEqual(['copy', '--all', '--preserve-digests', '--authfile', '/run/auth.json',
      `docker://${SRC}/contact-centre-app@${sha(app['2.3.1'])}`, `docker://${DST}/contact-centre-app:2.3.1`]);
    for (const c of copies) expect(c[5]).toMatch(/@sha256:[0-9a-f]{64}$/);
    // 2.3.0 is an earlier release (kept for rollback); the moving tag `stable` is not a release.
    expect(Object.keys(state()[`${DST}/contact-centre-app`]).sort()).toEqual(['2.3.0', '2.3.1']);
    expect(state()[`${DST}/counterparty-jobs`]['0.1.0']).toBe(jobs['0.1.0']);
    expect(r.presence.map((p) => [p.image, p.digest])).toEqual([['contact-centre-app:2.3.1', sha(app['2.3.1'])], ['counterparty-jobs:0.1.0', sha(jobs['0.1.0'])]]);
  });

  test('a second run copies nothing: work follows the change', async () => {
    fs.writeFileSync(logPath, '');
    const r = await mirrorImages({ source: SRC, destination: DST, images: ['contact-centre-app:2.3.1', 'counterparty-jobs:0.1.0'], keepReleases: 5, skopeo: skopeo() });
    expect(r.result).toBe('success');
    expect(r.tags.every((t) => t.action === 'present')).toBe(true);
    expect(calls().filter((c) => c.args[0] === 'copy')).toEqual([]);
  });

  test('keepReleases = N mirrors the N newest releases plus the plan tag', async () => {
    const many = Object.fromEntries(['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0', '1.6.0'].map((t) => [t, manifest(`app ${t}`)]));
    setState({ [`${SRC}/app`]: many });
    const r = await mirrorImages({ source: SRC, destination: DST, images: ['app:1.1.0'], keepReleases: 3, skopeo: skopeo() });
    expect(r.result).toBe('success');
    expect(Object.keys(state()[`${DST}/app`]).sort()).toEqual(['1.1.0', '1.4.0', '1.5.0', '1.6.0']);
  });

  test('a tag re-pointed on the primary is never overwritten: failure naming both digests, destination unchanged', async () => {
    const old = manifest('app 1.0.0 (first build)');
    setState({ [`${SRC}/app`]: { '1.0.0': manifest('app 1.0.0 (rebuilt)') }, [`${DST}/app`]: { '1.0.0': old } });
    const r = await mirrorImages({ source: SRC, destination: DST, images: ['app:1.0.0'], keepReleases: 5, skopeo: skopeo() });
    expect(r.result).toBe('failure');
    expect(r.tags[0].error).toContain(sha(old));
    expect(r.tags[0].error).toMatch(/never overwritten/);
    expect(calls().filter((c) => c.args[0] === 'copy')).toEqual([]);
    expect(state()[`${DST}/app`]['1.0.0']).toBe(old);
  });

  test('an unauthorized destination is an error, never "absent": nothing is copied', async () => {
    setState({ [`${SRC}/app`]: { '1.0.0': manifest('a') } }, ['europe-west3-docker.pkg.dev']);
    const r = await mirrorImages({ source: SRC, destination: DST, images: ['app:1.0.0'], keepReleases: 5, skopeo: skopeo() });
    expect(r.result).toBe('failure');
    expect(r.tags[0].error).toMatch(/unauthorized/);
    expect(r.missing).toEqual(['app:1.0.0']);
    expect(calls().filter((c) => c.args[0] === 'copy')).toEqual([]);
  });

  test('a plan image the primary does not have fails and is reported missing', async () => {
    setState({ [`${SRC}/app`]: { '1.0.0': manifest('a') } });
    const r = await mirrorImages({ source: SRC, destination: DST, images: ['app:9.9.9', 'jobs:0.1.0'], keepReleases: 5, skopeo: skopeo() });
    expect(r.result).toBe('failure');
    expect(r.missing).toEqual(['app:9.9.9', 'jobs:0.1.0']);
    expect(r.tags.find((t) => t.image === 'app:9.9.9')!.error).toMatch(/not in the source registry/);
    expect(r.tags.find((t) => t.image === 'jobs:0.1.0')!.error).toMatch(/list-tags.*name unknown/);
  });
});

test('checkImagesPresent: present with digest, missing without', async () => {
  setState({ [`${DST}/app`]: { '1.0.0': manifest('a') } });
  const p = await checkImagesPresent(['app:1.0.0', 'app:2.0.0'], DST, { skopeo: skopeo() });
  expect(p).toEqual([{ image: 'app:1.0.0', present: true, digest: sha(manifest('a')) }, { image: 'app:2.0.0', present: false }]);
});

describe('runMirrorCommand: one result line, exit code agrees', () => {
  let lines: Record<string, any>[];
  let prev: ReturnType<typeof setLogSink>;
  beforeEach(() => {
    lines = [];
    prev = setLogSink({ line: (t) => lines.push(JSON.parse(t)) });
    process.env.FAKE_SKOPEO_STATE = statePath;
    process.env.FAKE_SKOPEO_LOG = logPath;
  });
  afterEach(() => setLogSink(prev));
  const env = (extra: Record<string, string> = {}) => ({ CP_SKOPEO: fake, CP_MIRROR_AUTH: 'none', CP_MIRROR_SOURCE: SRC, CP_MIRROR_DESTINATION: DST, CP_IMAGES: 'app:1.0.0,jobs:0.1.0', ...extra });

  test('success: exit 0, imagesMissing 0', async () => {
    setState({ [`${SRC}/app`]: { '1.0.0': manifest('a') }, [`${SRC}/jobs`]: { '0.1.0': manifest('j') } });
    expect(await runMirrorCommand(env())).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: 'counterparty.mirror', result: 'success', imagesMissing: 0, keepReleases: 5 });
    expect(lines[0].copied).toEqual([`app:1.0.0@${sha(manifest('a'))}`, `jobs:0.1.0@${sha(manifest('j'))}`]);
  });

  test('a missing image: exit 2, reason copy-failed, imagesMissing counts it', async () => {
    setState({ [`${SRC}/app`]: { '1.0.0': manifest('a') } });
    expect(await runMirrorCommand(env())).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: 'counterparty.mirror', result: 'failure', reason: 'copy-failed', imagesMissing: 1, missing: ['jobs:0.1.0'] });
  });

  test('check-only mode copies nothing and reports presence', async () => {
    setState({ [`${SRC}/app`]: { '1.0.0': manifest('a') }, [`${DST}/app`]: { '1.0.0': manifest('a') } });
    expect(await runMirrorCommand(env({ CP_MIRROR_CHECK_ONLY: '1' }))).toBe(2);
    expect(calls().filter((c) => c.args[0] === 'copy')).toEqual([]);
    expect(lines[0]).toMatchObject({ result: 'failure', mode: 'check', imagesMissing: 1, missing: ['jobs:0.1.0'] });
  });

  test.each([
    [{ CP_IMAGES: '' }, /CP_IMAGES is not set/],
    [{ CP_KEEP_RELEASES: '0' }, /CP_KEEP_RELEASES/],
    [{ CP_MIRROR_AUTH: 'keys' }, /CP_MIRROR_AUTH/],
    [{ CP_SKOPEO: '/nonexistent/skopeo' }, /cannot run/],
  ])('bad configuration %p: a failure line with reason error, exit 2', async (extra, message) => {
    setState({});
    expect(await runMirrorCommand(env(extra as Record<string, string>))).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: 'counterparty.mirror', result: 'failure', reason: 'error' });
    expect(lines[0].error).toMatch(message);
  });
});

test('CP_KEEP_RELEASES defaults to 5', () => {
  expect(keepReleasesFromEnv({})).toBe(5);
  expect(keepReleasesFromEnv({ CP_KEEP_RELEASES: '3' })).toBe(3);
});

test('writeAuthFile: mode 0600, one auth per registry host, credHelpers, removed by dispose', () => {
  const f = writeAuthFile([{ registry: DST, username: 'oauth2accesstoken', password: 'tok' }], { [SRC]: 'ecr-login' });
  expect(fs.statSync(f.path).mode & 0o777).toBe(0o600);
  const doc = JSON.parse(fs.readFileSync(f.path, 'utf8'));
  expect(doc).toEqual({ auths: { 'europe-west3-docker.pkg.dev': { auth: Buffer.from('oauth2accesstoken:tok').toString('base64') } }, credHelpers: { [SRC]: 'ecr-login' } });
  f.dispose();
  expect(fs.existsSync(f.path)).toBe(false);
});

describe('keyless GCP auth (fake metadata server, moto STS)', () => {
  let moto: MotoService;
  let metadata: Server;
  let metadataHost: string;
  const seen: string[] = [];
  // A Google ID token as the metadata server returns it for format=full (claims per Google's "ID tokens" page): unsigned here, moto accepts any.
  const claims = { iss: 'https://accounts.google.com', aud: 'sts.amazonaws.com/111122223333/acme-cc-gcp-image-mirror', azp: '104857600000000000001', sub: '104857600000000000001', email: 'acme-cc-images@acme-cc-dr.iam.gserviceaccount.com' };
  const idToken = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

  beforeAll(async () => {
    moto = await startMoto();
    metadata = createServer((req, res) => {
      seen.push(`${req.headers['metadata-flavor']} ${req.url}`);
      if (req.headers['metadata-flavor'] !== 'Google') { res.statusCode = 403; res.end(); return; }
      if (req.url!.includes('/identity?')) res.end(idToken);
      else if (req.url!.endsWith('/token')) res.end(JSON.stringify({ access_token: 'ya29.fake', expires_in: 3599 }));
      else { res.statusCode = 404; res.end(); }
    });
    await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', () => r()));
    metadataHost = `127.0.0.1:${(metadata.address() as { port: number }).port}`;
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
    await new Promise((r) => metadata?.close(r));
  });

  test('ID token for the contract audience → STS web identity → skopeo gets AWS credentials and an authfile (ECR helper + AR token)', async () => {
    setState({ [`${SRC}/app`]: { '1.0.0': manifest('a') } });
    process.env.FAKE_SKOPEO_STATE = statePath;
    process.env.FAKE_SKOPEO_LOG = logPath;
    const lines: Record<string, any>[] = [];
    const prev = setLogSink({ line: (t) => lines.push(JSON.parse(t)) });
    try {
      const code = await runMirrorCommand({
        CP_SKOPEO: fake, CP_MIRROR_AUTH: 'gcp', CP_MIRROR_SOURCE: SRC, CP_MIRROR_DESTINATION: DST, CP_IMAGES: 'app:1.0.0',
        CP_MIRROR_TOKEN_AUDIENCE: claims.aud, AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/counterparty/acme-cc-gcp-image-mirror', AWS_REGION: 'eu-central-1',
        AWS_ENDPOINT_URL_STS: moto.endpoint, GCE_METADATA_HOST: metadataHost,
      });
      expect(lines[0]).toMatchObject({ result: 'success' });
      expect(code).toBe(0);
    } finally {
      setLogSink(prev);
    }
    expect(seen).toContain(`Google /computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(claims.aud)}&format=full`);
    const all = calls();
    expect(all.length).toBeGreaterThan(0);
    for (const c of all) {
      expect(c.awsKey).toMatch(/^[A-Z0-9]{16,}$/);
      expect(c.args).toContain('--authfile');
    }
  });

  describe('azure mode', () => {
    const tenant = '55555555-6666-7777-8888-999999999999';
    const azureClaims = { iss: `https://sts.windows.net/${tenant}/`, aud: 'api://acme-cc-counterparty', sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', ver: '1.0' };
    const jwt = (claims: object) => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
    const scopes: string[] = [];
    const credential = { getToken: async (scope: string | string[]) => { scopes.push(String(scope)); return { token: jwt(azureClaims), expiresOnTimestamp: Date.now() + 3600_000 }; } };
    let acr: Server;
    let acrUrl = '';
    const exchanges: string[] = [];
    beforeAll(async () => {
      acr = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => { body += c; });
        req.on('end', () => { exchanges.push(body); res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ refresh_token: 'acr-refresh' })); });
      });
      await new Promise<void>((r) => acr.listen(0, '127.0.0.1', () => r()));
      acrUrl = `http://127.0.0.1:${(acr.address() as { port: number }).port}/oauth2/exchange`;
    });
    afterAll(async () => { await new Promise((r) => acr?.close(r)); });
    const azureEnv = (trustedSubject: string) => ({
      CP_SKOPEO: fake, CP_MIRROR_AUTH: 'azure', CP_MIRROR_SOURCE: SRC, CP_MIRROR_DESTINATION: 'acmeccimages.azurecr.io', CP_IMAGES: 'app:1.0.0',
      CP_MIRROR_TOKEN_AUDIENCE: azureClaims.aud, AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/counterparty/acme-cc-azure-image-mirror', AWS_REGION: 'eu-central-1',
      AWS_ENDPOINT_URL_STS: moto.endpoint, CP_ACR_EXCHANGE_ENDPOINT: acrUrl,
      CP_TRUSTED_ISSUER: azureClaims.iss, CP_TRUSTED_AUDIENCE: azureClaims.aud, CP_TRUSTED_SUBJECT: trustedSubject,
    });

    test('self-check passes → STS → ACR refresh token in the authfile, ECR through the credential helper', async () => {
      setState({ [`${SRC}/app`]: { '1.0.0': manifest('a') } });
      process.env.FAKE_SKOPEO_STATE = statePath;
      process.env.FAKE_SKOPEO_LOG = logPath;
      const lines: Record<string, any>[] = [];
      const prev = setLogSink({ line: (t) => lines.push(JSON.parse(t)) });
      let code: number;
      try {
        code = await runMirrorCommand(azureEnv(azureClaims.sub), { azureCredential: credential as any });
      } finally {
        setLogSink(prev);
      }
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ event: 'counterparty.mirror', result: 'success' });
      expect(code).toBe(0);
      expect(scopes).toEqual(expect.arrayContaining(['api://acme-cc-counterparty/.default', 'https://containerregistry.azure.net/.default']));
      expect(new URLSearchParams(exchanges[0]).get('service')).toBe('acmeccimages.azurecr.io');
      const first = calls()[0];
      expect(first.awsKey).toMatch(/^[A-Z0-9]{16,}$/);
      expect(first.authfile).toEqual({
        auths: { 'acmeccimages.azurecr.io': { auth: Buffer.from('00000000-0000-0000-0000-000000000000:acr-refresh').toString('base64') } },
        credHelpers: { [SRC]: 'ecr-login' },
      });
    });

    test('a token that does not match what AWS trusts: one failure line naming both subjects, exit 2, skopeo never runs', async () => {
      setState({});
      const lines: Record<string, any>[] = [];
      const prev = setLogSink({ line: (t) => lines.push(JSON.parse(t)) });
      let code: number;
      try {
        code = await runMirrorCommand(azureEnv('ffffffff-0000-0000-0000-000000000000'), { azureCredential: credential as any });
      } finally {
        setLogSink(prev);
      }
      expect(code).toBe(2);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ event: 'counterparty.mirror', result: 'failure', reason: 'federation' });
      expect(lines[0].error).toContain(azureClaims.sub);
      expect(lines[0].error).toContain('ffffffff-0000-0000-0000-000000000000');
      expect(calls()).toEqual([]);
    });
  });

  test('idTokenClaims decodes what AWS will compare', () => {
    expect(idTokenClaims(idToken)).toMatchObject({ aud: claims.aud, azp: claims.azp, sub: claims.sub });
  });
});

describe('real skopeo between two OCI layouts', () => {
  // scripts/ci-prereqs.sh installs skopeo (npm test runs it first): a missing skopeo fails here, it is never skipped.
  const t = test;
  test('skopeo is installed (scripts/ci-prereqs.sh)', () => {
    expect(spawnSync('skopeo', ['--version']).status).toBe(0);
  });

  /** A minimal OCI image layout (one empty layer) written by hand, tagged `tag`. */
  function ociLayout(root: string, tag: string, note: string): void {
    const blobs = path.join(root, 'blobs', 'sha256');
    fs.mkdirSync(blobs, { recursive: true });
    const put = (data: Buffer) => {
      const hex = createHash('sha256').update(data).digest('hex');
      fs.writeFileSync(path.join(blobs, hex), data);
      return { digest: `sha256:${hex}`, size: data.length };
    };
    const layer = put(Buffer.alloc(1024)); // an empty tar archive: two zero blocks
    const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: { Labels: { note } } })));
    const man = put(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    })));
    fs.writeFileSync(path.join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    fs.writeFileSync(path.join(root, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...man, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
  }

  t('copyImage preserves the digest, and digestAt reads it back; an absent tag is undefined', async () => {
    const a = path.join(dir, 'oci-a');
    const b = path.join(dir, 'oci-b');
    ociLayout(a, '1.0.0', 'first');
    const real = skopeoAt('skopeo');
    const digest = await digestAt(real, `oci:${a}:1.0.0`);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await digestAt(real, `oci:${b}:1.0.0`)).toBeUndefined();
    await copyImage(real, `oci:${a}:1.0.0`, `oci:${b}:1.0.0`, digest!);
    expect(await digestAt(real, `oci:${b}:1.0.0`)).toBe(digest);
    const index = JSON.parse(fs.readFileSync(path.join(b, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(digest);
    expect(manifestDigest(fs.readFileSync(path.join(b, 'blobs', 'sha256', digest!.slice(7))))).toBe(digest);
  });

  t('copyImage refuses a result whose digest is not the expected one', async () => {
    const c = path.join(dir, 'oci-c');
    ociLayout(c, '2.0.0', 'second');
    const real = skopeoAt('skopeo');
    await expect(copyImage(real, `oci:${c}:2.0.0`, `oci:${path.join(dir, 'oci-d')}:2.0.0`, `sha256:${'0'.repeat(64)}`)).rejects.toThrow(/expected sha256:0000/);
  });
});

test('imagesCheckFromEnv: the status command\'s check (not configured → undefined; missing → not present, named)', async () => {
  expect(imagesCheckFromEnv({})).toBeUndefined();
  setState({ [`${DST}/app`]: { '1.0.0': manifest('a') } });
  const check = imagesCheckFromEnv({ CP_IMAGES: 'app:1.0.0,jobs:0.1.0', CP_MIRROR_DESTINATION: DST }, skopeo())!;
  const r = await check();
  expect(r.present).toBe(false);
  expect(r.detail).toBe(`missing from ${DST}: jobs:0.1.0`);
  const ok = await imagesCheckFromEnv({ CP_IMAGES: 'app:1.0.0', CP_MIRROR_DESTINATION: DST }, skopeo())!();
  expect(ok).toEqual({ present: true, detail: `all in ${DST}: app:1.0.0@${sha(manifest('a'))}` });
});
