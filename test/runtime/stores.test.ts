/**
 * The object-store adapters against real services where there are some: S3Store against moto_server,
 * AzureBlobStore against Azurite, FileStore on disk. There is no GCS emulator on this machine: the
 * GcsStore runs against a tiny in-test fake of the JSON API endpoints it uses (list, metadata,
 * media download, multipart upload), through `@google-cloud/storage`'s `apiEndpoint`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startAzurite, startMoto, type AzuriteService, type MotoService } from '../../scripts/services';
import { awsClients, createBucket } from '../../scripts/drill/primary';
import { AzureBlobStore, FileStore, GcsStore, S3Store, openStore, parseStoreUrl, ObjectNotFoundError, readAll, type ObjectStore } from '../../lib/runtime/stores';
import { sha256Hex } from '../../lib/runtime/util';

let moto: MotoService;
let az: AzuriteService;
let gcs: Server;
let gcsEndpoint: string;
let dir: string;
const gcsObjects = new Map<string, { data: Buffer; contentType?: string; metadata?: Record<string, string> }>();

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function fakeGcs(): Server {
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, value: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(value)); };
    const meta = (name: string): Record<string, unknown> => {
      const o = gcsObjects.get(name)!;
      return { kind: 'storage#object', bucket: 'vault', name, size: String(o.data.length), etag: sha256Hex(o.data).slice(0, 16), contentType: o.contentType, metadata: o.metadata };
    };
    let m = /^\/storage\/v1\/b\/vault\/o$/.exec(url.pathname);
    if (m && req.method === 'GET') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const max = Number(url.searchParams.get('maxResults') ?? 1000);
      const names = [...gcsObjects.keys()].filter((k) => k.startsWith(prefix)).sort();
      const start = Number(url.searchParams.get('pageToken') ?? 0);
      const page = names.slice(start, start + max);
      json(200, { kind: 'storage#objects', items: page.map(meta), ...(start + max < names.length ? { nextPageToken: String(start + max) } : {}) });
      return;
    }
    m = /^\/(?:download\/)?storage\/v1\/b\/vault\/o\/(.+)$/.exec(url.pathname);
    if (m && req.method === 'GET') {
      const name = decodeURIComponent(m[1]);
      if (!gcsObjects.has(name)) { json(404, { error: { code: 404, message: 'No such object' } }); return; }
      if (url.searchParams.get('alt') === 'media') { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(gcsObjects.get(name)!.data); return; }
      json(200, meta(name));
      return;
    }
    if (/^\/upload\/storage\/v1\/b\/vault\/o$/.test(url.pathname) && req.method === 'POST') {
      const raw = await body(req);
      const boundary = /boundary="?([^";]+)"?/.exec(req.headers['content-type'] ?? '')?.[1];
      if (!boundary) { json(400, { error: { code: 400, message: 'multipart only' } }); return; }
      const parts = raw.toString('latin1').split(`--${boundary}`).slice(1, -1).map((p) => p.replace(/^\r\n/, ''));
      const [metaPart, dataPart] = parts.map((p) => p.slice(p.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, ''));
      const info = JSON.parse(metaPart) as { name?: string; contentType?: string; metadata?: Record<string, string> };
      const name = info.name ?? url.searchParams.get('name')!;
      gcsObjects.set(name, { data: Buffer.from(dataPart, 'latin1'), contentType: info.contentType, metadata: info.metadata });
      json(200, meta(name));
      return;
    }
    json(501, { error: { code: 501, message: `fake GCS does not serve ${req.method} ${url.pathname}` } });
  });
}

beforeAll(async () => {
  [moto, az] = await Promise.all([startMoto(), startAzurite()]);
  gcs = fakeGcs();
  await new Promise<void>((r) => gcs.listen(0, '127.0.0.1', () => r()));
  const addr = gcs.address();
  gcsEndpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  dir = mkdtempSync(join(tmpdir(), 'cp-stores-'));
}, 60_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), az?.stop()]);
  await new Promise((r) => gcs?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function contract(store: ObjectStore): Promise<void> {
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 3);
  await store.put('nights/2026-11-01/b.json', '{"b":1}', { contentType: 'application/json' });
  await store.put('nights/2026-11-01/a/dump.pgdump', Readable.from([big.subarray(0, 1000), big.subarray(1000)]));
  await store.put('objects/r/x y+z.wav', Buffer.from('audio'));
  const listed: { key: string; size: number }[] = [];
  for await (const o of store.list('nights/')) listed.push({ key: o.key, size: o.size });
  expect(listed).toEqual([{ key: 'nights/2026-11-01/a/dump.pgdump', size: big.length }, { key: 'nights/2026-11-01/b.json', size: 7 }]);
  expect((await store.head('objects/r/x y+z.wav'))?.size).toBe(5);
  expect(await store.head('objects/r/nope')).toBeUndefined();
  expect((await store.getBytes('nights/2026-11-01/b.json')).toString()).toBe('{"b":1}');
  expect(sha256Hex(await readAll(await store.get('nights/2026-11-01/a/dump.pgdump')))).toBe(sha256Hex(big));
  await expect(store.get('nights/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
  await expect(store.getBytes('nights/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
  expect(store.locationOf('objects/r/x y+z.wav')).toContain('objects/r/');
}

test('S3Store (moto): the store contract, plus the full-object SHA-256 S3 keeps', async () => {
  const { s3 } = awsClients(moto.endpoint, 'eu-central-1');
  await createBucket(s3, 'stores-test', 'eu-central-1');
  const store = new S3Store('stores-test', s3);
  await contract(store);
  expect((await store.head('objects/r/x y+z.wav'))?.sha256).toBe(sha256Hex('audio'));
});

test('AzureBlobStore (Azurite): the store contract', async () => {
  const store = new AzureBlobStore({ account: az.account, container: 'stores-test', endpoint: az.blobEndpoint, accountKey: az.accountKey });
  await store.ensureContainer();
  await contract(store);
  expect(store.url).toBe(`azblob://${az.account}/stores-test`);
});

test('GcsStore (in-test fake of the GCS JSON API): the store contract', async () => {
  const store = new GcsStore({ bucket: 'vault', apiEndpoint: gcsEndpoint, projectId: 'test' });
  await contract(store);
});

test('FileStore: the store contract, and keys cannot escape the folder', async () => {
  const store = new FileStore(join(dir, 'files'));
  await contract(store);
  await expect(store.put('../escape', 'x')).rejects.toThrow(/escapes/);
});

test('openStore parses the four URL forms and takes endpoints from the environment', () => {
  expect(parseStoreUrl('s3://bucket')).toEqual({ kind: 's3', bucket: 'bucket' });
  expect(parseStoreUrl('gs://vault/')).toEqual({ kind: 'gs', bucket: 'vault' });
  expect(parseStoreUrl('azblob://acct/exports')).toEqual({ kind: 'azblob', account: 'acct', container: 'exports' });
  expect(parseStoreUrl('file:///tmp/x')).toEqual({ kind: 'file', path: '/tmp/x' });
  for (const bad of ['bucket', 'ftp://x', 's3://a/b', 'azblob://acct', 'gs://']) expect(() => parseStoreUrl(bad)).toThrow(/store URL|scheme/);
  const a = openStore('azblob://acct/exports', { CP_AZURE_BLOB_ENDPOINT: 'http://127.0.0.1:1/acct', CP_AZURE_BLOB_KEY: az.accountKey }) as AzureBlobStore;
  expect(a.container.url).toBe('http://127.0.0.1:1/acct/exports');
  expect((openStore('azblob://acct/exports', { CP_AZURE_BLOB_KEY: az.accountKey }) as AzureBlobStore).container.url).toBe('https://acct.blob.core.windows.net/exports');
  expect(openStore('s3://b', { AWS_REGION: 'eu-central-1' })).toBeInstanceOf(S3Store);
  expect(openStore('file:///tmp/x')).toBeInstanceOf(FileStore);
});

test('delete: S3 removes every version of a key (moto); Object Lock refuses a locked version; listings carry modified', async () => {
  const { s3 } = awsClients(moto.endpoint, 'eu-central-1');
  const { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, ListObjectVersionsCommand } = await import('@aws-sdk/client-s3');
  await s3.send(new CreateBucketCommand({ Bucket: 'delete-test', CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'delete-test', VersioningConfiguration: { Status: 'Enabled' } }));
  const store = new S3Store('delete-test', s3);
  await store.put('blobs/sha256/aa/x', 'one');
  await store.put('blobs/sha256/aa/x', 'two');
  const listed: Date[] = [];
  for await (const o of store.list('blobs/')) if (o.modified) listed.push(o.modified);
  expect(listed).toHaveLength(1);
  await store.delete('blobs/sha256/aa/x');
  expect((await s3.send(new ListObjectVersionsCommand({ Bucket: 'delete-test', Prefix: 'blobs/' }))).Versions ?? []).toEqual([]);
  // a locked version (Object Lock, governance) is refused, and the error reaches the caller
  await s3.send(new CreateBucketCommand({ Bucket: 'delete-locked', ObjectLockEnabledForBucket: true, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }));
  const future = new Date(Date.now() + 86_400_000);
  await s3.send(new PutObjectCommand({ Bucket: 'delete-locked', Key: 'k', Body: 'v', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: future, ChecksumAlgorithm: 'SHA256' }));
  const locked = new S3Store('delete-locked', s3);
  expect((await locked.head('k'))?.retainUntil?.getTime()).toBeGreaterThan(Date.now());
  await expect(locked.delete('k')).rejects.toMatchObject({ name: expect.stringMatching(/AccessDenied/) });
  // the file store deletes
  const fdir = mkdtempSync(join(tmpdir(), 'cp-del-'));
  const f = new FileStore(fdir);
  await f.put('a/b', 'x');
  await f.delete('a/b');
  expect(await f.head('a/b')).toBeUndefined();
  rmSync(fdir, { recursive: true, force: true });
});
