/**
 * The drill's DynamoDB comparison can fail: it decodes the primary's items with the AWS SDK and its
 * own typed form, not with the restorer's mapping, so a restorer that collapses a type (B as S, a set
 * as a list, NS as strings) or drops an item shows as a digest difference.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { Client } from 'pg';
import { itemToJsonText } from '../../lib/runtime/dynamodb-json';
import { startPostgres, type PostgresService } from '../../scripts/services';
import { modelDigest, standbyDynamoDigest } from '../../scripts/drill/compare';

let pg: PostgresService;
const items = new Map<string, Record<string, AttributeValue>>([
  ['a', { id: { S: 'a' }, n: { N: '1.50' }, b: { B: new Uint8Array([1, 2, 255]) }, ss: { SS: ['y', 'x'] }, ns: { NS: ['10', '2'] }, bs: { BS: [new Uint8Array([7])] }, m: { M: { l: { L: [{ S: 's' }, { N: '3' }, { NULL: true }, { BOOL: false }] } } } }],
  ['b', { id: { S: 'b' }, note: { S: 'AQL/' } }],
]);

/** DynamoDB JSON as an export writes it (binary as base64). */
function exportJson(av: AttributeValue): Record<string, unknown> {
  const [type, value] = Object.entries(av).find(([, v]) => v !== undefined)!;
  if (type === 'B') return { B: Buffer.from(value as Uint8Array).toString('base64') };
  if (type === 'BS') return { BS: (value as Uint8Array[]).map((x) => Buffer.from(x).toString('base64')) };
  if (type === 'L') return { L: (value as AttributeValue[]).map(exportJson) };
  if (type === 'M') return { M: Object.fromEntries(Object.entries(value as Record<string, AttributeValue>).map(([k, v]) => [k, exportJson(v)])) };
  return { [type]: value };
}

async function standbyWith(rows: { id: string; item: string; typed: Record<string, unknown> }[]): Promise<ReturnType<typeof standbyDynamoDigest>> {
  const c = new Client({ host: pg.host, port: pg.port, user: pg.user, database: 'postgres' });
  await c.connect();
  await c.query('DROP SCHEMA IF EXISTS counterparty CASCADE; CREATE SCHEMA counterparty; CREATE TABLE counterparty.ddb_t (id text PRIMARY KEY, item jsonb, item_typed jsonb)');
  for (const r of rows) await c.query('INSERT INTO counterparty.ddb_t VALUES ($1, $2::jsonb, $3::jsonb)', [r.id, r.item, JSON.stringify(r.typed)]);
  await c.end();
  return standbyDynamoDigest({ host: pg.host, port: pg.port, user: pg.user }, 'postgres', 'ddb_t', 'id');
}

function restoredAsTheRestorerDoes(item: Record<string, AttributeValue>): { id: string; item: string; typed: Record<string, unknown> } {
  const typed = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, exportJson(v)]));
  return { id: item.id.S!, item: itemToJsonText(typed as never), typed };
}

beforeAll(async () => { pg = await startPostgres('compare'); }, 60_000);
afterAll(async () => { await pg?.stop(); });

test('a faithful restore gives equal typed and plain digests', async () => {
  const want = modelDigest(items, 'id');
  const got = await standbyWith([...items.values()].map(restoredAsTheRestorerDoes));
  expect(got).toEqual(want);
});

test.each([
  ['B collapsed into S', (t: Record<string, unknown>) => ({ ...t, b: { S: (t.b as { B: string }).B } })],
  ['SS collapsed into L', (t: Record<string, unknown>) => ({ ...t, ss: { L: (t.ss as { SS: string[] }).SS.map((S) => ({ S })) } })],
  ['NS as strings', (t: Record<string, unknown>) => ({ ...t, ns: { SS: (t.ns as { NS: string[] }).NS } })],
])('a restorer bug is seen in the typed digest: %s', async (_name, mutate) => {
  const want = modelDigest(items, 'id');
  const rows = [...items.values()].map(restoredAsTheRestorerDoes);
  rows[0] = { ...rows[0], typed: mutate(rows[0].typed) };
  expect((await standbyWith(rows)).typed).not.toBe(want.typed);
});

test('a plain-JSON mapping bug and a lost item are seen too', async () => {
  const want = modelDigest(items, 'id');
  const rows = [...items.values()].map(restoredAsTheRestorerDoes);
  const wrongPlain = [{ ...rows[0], item: rows[0].item.replace('1.50', '"1.50"') }, rows[1]]; // a number that became a string
  expect((await standbyWith(wrongPlain)).plain).not.toBe(want.plain);
  const lost = await standbyWith([rows[0]]);
  expect(lost.items).toBe(1);
  expect(lost.typed).not.toBe(want.typed);
});
