/**
 * Turns the JSON Schema of a message body (z.toJSONSchema of the contract) into a proto2
 * Pub/Sub schema for JSON-encoded messages. Why proto and not Avro: Avro's JSON encoding
 * needs every non-null value of a union (each nullable field) wrapped as {"string": "x"}, and
 * Pub/Sub validates JSON messages by exactly that encoding, while the protobuf JSON mapping
 * takes plain values, `null` for "not set", and omitted fields; our messages are plain JSON
 * (docs/subscribing.md "Why a Protocol Buffer schema").
 *
 * Pub/Sub takes one top-level message and no imports, so nested objects become nested
 * messages and everything is a scalar. A body that is a union of object shapes (results and
 * job-completed on one topic) becomes one message with the union of their fields; a field is
 * `required` only when every shape has it and it is never null. Two shapes giving one field
 * different types cannot be expressed and are refused. Field numbers follow declaration order:
 * the versioning rule (fields only appended) keeps them stable.
 */
export interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  [k: string]: unknown;
}

export type Scalar = 'string' | 'int64' | 'double' | 'bool';
type FieldType = { kind: 'scalar'; scalar: Scalar } | { kind: 'message'; shapes: JsonSchema[] };

export interface Field {
  name: string;
  type: FieldType;
  required: boolean;
  description?: string;
}

export function protoSchema(schema: JsonSchema, messageName: string, description?: string): string {
  const lines = ['// Generated from shared/messages/contract.ts by terraform/scripts/generate-message-schemas.ts; do not edit.', 'syntax = "proto2";', ''];
  lines.push(...messageLines(messageName, shapesOf(schema), description ?? schema.description, ''));
  return lines.join('\n') + '\n';
}

/** The fields of the one message a body schema becomes, in field-number order. */
export function messageFields(schema: JsonSchema, messageName: string): Field[] {
  return mergeFields(messageName, shapesOf(schema));
}

/** The fields of a nested message field. */
export function nestedFields(field: Field): Field[] {
  if (field.type.kind !== 'message') throw new Error(`${field.name} is not a message`);
  return mergeFields(field.name, field.type.shapes);
}

function shapesOf(schema: JsonSchema): JsonSchema[] {
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants) return variants.flatMap(shapesOf);
  if (schema.type !== 'object' || !schema.properties) throw new Error(`not an object schema: ${JSON.stringify(schema).slice(0, 200)}`);
  return [schema];
}

function messageLines(name: string, shapes: JsonSchema[], description: string | undefined, indent: string): string[] {
  const fields = mergeFields(name, shapes);
  const out: string[] = [];
  if (description) out.push(`${indent}// ${oneLine(description)}`);
  out.push(`${indent}message ${name} {`);
  for (const f of fields) {
    if (f.type.kind === 'message') out.push(...messageLines(messageTypeName(f.name), f.type.shapes, undefined, `${indent}  `));
  }
  fields.forEach((f, i) => {
    if (f.description) out.push(`${indent}  // ${oneLine(f.description)}`);
    const type = f.type.kind === 'scalar' ? f.type.scalar : messageTypeName(f.name);
    out.push(`${indent}  ${f.required ? 'required' : 'optional'} ${type} ${f.name} = ${i + 1};`);
  });
  out.push(`${indent}}`);
  return out;
}

function mergeFields(where: string, shapes: JsonSchema[]): Field[] {
  const fields = new Map<string, Field>();
  for (const shape of shapes) {
    for (const [name, prop] of Object.entries(shape.properties ?? {})) {
      const { type, nullable } = fieldType(`${where}.${name}`, prop);
      const required = !nullable && (shape.required ?? []).includes(name);
      const known = fields.get(name);
      if (!known) {
        fields.set(name, { name, type, required, ...(prop.description ? { description: prop.description } : {}) });
        continue;
      }
      if (!sameType(known.type, type)) throw new Error(`${where}.${name} has two types across message shapes (${describe(known.type)} and ${describe(type)}): one Pub/Sub schema cannot hold both`);
      if (type.kind === 'message' && known.type.kind === 'message') known.type.shapes.push(...type.shapes);
      known.required &&= required;
      if (prop.description && !known.description?.split(' | ').includes(prop.description)) known.description = known.description ? `${known.description} | ${prop.description}` : prop.description;
    }
  }
  // a field some shape lacks cannot be required
  for (const f of fields.values()) if (!shapes.every((s) => (s.required ?? []).includes(f.name))) f.required = false;
  return [...fields.values()];
}

function fieldType(where: string, prop: JsonSchema): { type: FieldType; nullable: boolean } {
  const variants = prop.anyOf ?? prop.oneOf;
  if (variants) {
    const nonNull = variants.filter((v) => v.type !== 'null');
    if (nonNull.length !== 1) throw new Error(`${where}: only "X or null" unions can be expressed`);
    return { type: fieldType(where, nonNull[0]!).type, nullable: nonNull.length < variants.length };
  }
  const types = Array.isArray(prop.type) ? prop.type : prop.type ? [prop.type] : [];
  const nonNull = types.filter((t) => t !== 'null');
  if (nonNull.length !== 1) throw new Error(`${where}: needs exactly one non-null type, got ${JSON.stringify(prop.type)}`);
  const nullable = nonNull.length < types.length;
  switch (nonNull[0]) {
    case 'string':
      return { type: { kind: 'scalar', scalar: 'string' }, nullable };
    case 'integer':
      return { type: { kind: 'scalar', scalar: 'int64' }, nullable };
    case 'number':
      return { type: { kind: 'scalar', scalar: 'double' }, nullable };
    case 'boolean':
      return { type: { kind: 'scalar', scalar: 'bool' }, nullable };
    case 'object':
      return { type: { kind: 'message', shapes: [prop] }, nullable };
    default:
      throw new Error(`${where}: type ${nonNull[0]} has no Pub/Sub schema mapping here`);
  }
}

function sameType(a: FieldType, b: FieldType): boolean {
  return a.kind === 'scalar' && b.kind === 'scalar' ? a.scalar === b.scalar : a.kind === b.kind;
}

function describe(t: FieldType): string {
  return t.kind === 'scalar' ? t.scalar : 'object';
}

function messageTypeName(field: string): string {
  return field.charAt(0).toUpperCase() + field.slice(1);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
