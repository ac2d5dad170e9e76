/**
 * DynamoDB JSON (the export format: one `{"Item": {...}}` per line, attribute values typed as
 * `{"S": ...}`, `{"N": ...}`, ...) → plain JSON text for PostgreSQL JSONB. Numbers keep their exact
 * digits (JSONB `numeric`), binary becomes base64 strings, sets become arrays.
 */
export type AttributeValueJson = Record<string, unknown>;

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

export function attributeToJsonText(av: AttributeValueJson): string {
  const [type, value] = Object.entries(av)[0] ?? [];
  switch (type) {
    case 'S': return JSON.stringify(value);
    case 'N': return JSON_NUMBER.test(String(value)) ? String(value) : JSON.stringify(String(value));
    case 'B': return JSON.stringify(value);
    case 'BOOL': return value ? 'true' : 'false';
    case 'NULL': return 'null';
    case 'SS': case 'BS': return `[${(value as string[]).map((v) => JSON.stringify(v)).join(',')}]`;
    case 'NS': return `[${(value as string[]).map((v) => (JSON_NUMBER.test(v) ? v : JSON.stringify(v))).join(',')}]`;
    case 'L': return `[${(value as AttributeValueJson[]).map(attributeToJsonText).join(',')}]`;
    case 'M': return itemToJsonText(value as Record<string, AttributeValueJson>);
    default: throw new Error(`unknown DynamoDB attribute type ${JSON.stringify(type)}`);
  }
}

/** A DynamoDB item (attribute name → typed value) as JSON object text, keys sorted. */
export function itemToJsonText(item: Record<string, AttributeValueJson>): string {
  const keys = Object.keys(item).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${attributeToJsonText(item[k])}`).join(',')}}`;
}

/** A key attribute's value as text for a typed column (S, N as digits, B as base64). */
export function keyValueText(av: AttributeValueJson | undefined, attribute: string): string {
  if (!av) throw new Error(`item lacks key attribute ${attribute}`);
  const [type, value] = Object.entries(av)[0] ?? [];
  if (type === 'S' || type === 'N' || type === 'B') return String(value);
  throw new Error(`key attribute ${attribute} has type ${type}; keys are S, N or B`);
}

/**
 * The lossless side: the restorer keeps each item as it was exported (DynamoDB JSON, `item_typed`),
 * so every type survives (S, N as its exact digits, B, BOOL, NULL, M, L, SS, NS, BS). These convert
 * that JSON to the SDK's AttributeValue shape (binary as bytes) and back, e.g. for a fail-back
 * `PutItem`/`BatchWriteItem` to DynamoDB.
 */
export type TypedAttributeValue =
  | { S: string } | { N: string } | { B: Uint8Array } | { BOOL: boolean } | { NULL: true }
  | { M: Record<string, TypedAttributeValue> } | { L: TypedAttributeValue[] }
  | { SS: string[] } | { NS: string[] } | { BS: Uint8Array[] };

export function attributeValueFromJson(av: AttributeValueJson): TypedAttributeValue {
  const entries = Object.entries(av);
  if (entries.length !== 1) throw new Error(`a DynamoDB attribute value has exactly one type, got ${JSON.stringify(Object.keys(av))}`);
  const [type, value] = entries[0];
  switch (type) {
    case 'S': return { S: String(value) };
    case 'N': return { N: String(value) };
    case 'B': return { B: new Uint8Array(Buffer.from(String(value), 'base64')) };
    case 'BOOL': return { BOOL: Boolean(value) };
    case 'NULL': return { NULL: true };
    case 'SS': return { SS: (value as unknown[]).map(String) };
    case 'NS': return { NS: (value as unknown[]).map(String) };
    case 'BS': return { BS: (value as unknown[]).map((v) => new Uint8Array(Buffer.from(String(v), 'base64'))) };
    case 'L': return { L: (value as AttributeValueJson[]).map(attributeValueFromJson) };
    case 'M': return { M: itemFromJson(value as Record<string, AttributeValueJson>) };
    default: throw new Error(`unknown DynamoDB attribute type ${JSON.stringify(type)}`);
  }
}

export function itemFromJson(item: Record<string, AttributeValueJson>): Record<string, TypedAttributeValue> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, attributeValueFromJson(v)]));
}

/** SDK AttributeValue → DynamoDB JSON (binary as base64), the export's own encoding. */
export function attributeValueToJson(av: TypedAttributeValue): AttributeValueJson {
  const [type, value] = Object.entries(av)[0] as [string, unknown];
  switch (type) {
    case 'B': return { B: Buffer.from(value as Uint8Array).toString('base64') };
    case 'BS': return { BS: (value as Uint8Array[]).map((b) => Buffer.from(b).toString('base64')) };
    case 'L': return { L: (value as TypedAttributeValue[]).map(attributeValueToJson) };
    case 'M': return { M: Object.fromEntries(Object.entries(value as Record<string, TypedAttributeValue>).map(([k, v]) => [k, attributeValueToJson(v)])) };
    default: return { [type]: value };
  }
}
