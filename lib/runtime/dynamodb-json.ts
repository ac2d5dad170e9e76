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
