import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { create, createFileRegistry, fromJson, isFieldSet, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { DescriptorProtoSchema, FieldDescriptorProto_Label, FieldDescriptorProto_Type, FieldDescriptorProtoSchema, FileDescriptorProtoSchema, type DescriptorProto } from '@bufbuild/protobuf/wkt';

/**
 * Validates JSON message bodies the way a Pub/Sub topic with a Protocol Buffer schema and JSON
 * encoding does: the .proto is parsed (protobufjs), and each body is read by a parser that
 * passes the Protobuf conformance tests for the JSON mapping (@bufbuild/protobuf's fromJson:
 * unknown fields, wrong types and bad values are errors), then proto2 `required` fields are
 * checked.
 */
export class ProtoJsonValidator {
  private readonly message: DescMessage;

  constructor(protoText: string, messageName: string) {
    const parsed = protobuf.parse(protoText, { keepCase: true });
    if (parsed.imports?.length) throw new Error('a Pub/Sub schema cannot import other files');
    parsed.root.resolveAll();
    const file = create(FileDescriptorProtoSchema, {
      name: 'schema.proto',
      syntax: /syntax\s*=\s*"proto3"/.test(protoText) ? 'proto3' : 'proto2',
      messageType: parsed.root.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type).map(describeType),
    });
    const registry = createFileRegistry(file, () => undefined);
    const message = registry.getMessage(messageName);
    if (!message) throw new Error(`no message ${messageName} in the schema`);
    this.message = message;
  }

  static fromFile(path: string, messageName: string): ProtoJsonValidator {
    return new ProtoJsonValidator(readFileSync(path, 'utf8'), messageName);
  }

  /** The problem with this body, or undefined when the schema accepts it. */
  problem(body: unknown): string | undefined {
    try {
      const msg = fromJson(this.message, body as JsonValue);
      return missingRequired(this.message, msg as unknown as Record<string, unknown>);
    } catch (err) {
      return (err as Error).message;
    }
  }
}

function missingRequired(desc: DescMessage, msg: Record<string, unknown>, path = ''): string | undefined {
  for (const field of desc.fields) {
    const set = isFieldSet(msg as never, field);
    // proto2 `required` is presence LEGACY_REQUIRED (3) in bufbuild's descriptors
    if (!set && (field as { presence?: number }).presence === 3) return `${desc.typeName}: required field ${path}${field.name} is missing`;
    if (set && field.fieldKind === 'message') {
      const problem = missingRequired(field.message, msg[field.localName] as Record<string, unknown>, `${path}${field.name}.`);
      if (problem) return problem;
    }
  }
  return undefined;
}

const SCALARS: Record<string, FieldDescriptorProto_Type> = {
  string: FieldDescriptorProto_Type.STRING,
  int64: FieldDescriptorProto_Type.INT64,
  int32: FieldDescriptorProto_Type.INT32,
  double: FieldDescriptorProto_Type.DOUBLE,
  float: FieldDescriptorProto_Type.FLOAT,
  bool: FieldDescriptorProto_Type.BOOL,
  bytes: FieldDescriptorProto_Type.BYTES,
};

/** protobufjs's reflection as a DescriptorProto (its own toDescriptor drops `required` and json names). */
function describeType(t: protobuf.Type): DescriptorProto {
  return create(DescriptorProtoSchema, {
    name: t.name,
    field: t.fieldsArray.map((f) => {
      const scalar = SCALARS[f.type];
      if (scalar === undefined && !(f.resolvedType instanceof protobuf.Type)) throw new Error(`field ${t.name}.${f.name}: type ${f.type} is not supported here`);
      return create(FieldDescriptorProtoSchema, {
        name: f.name,
        number: f.id,
        label: f.required ? FieldDescriptorProto_Label.REQUIRED : f.repeated ? FieldDescriptorProto_Label.REPEATED : FieldDescriptorProto_Label.OPTIONAL,
        type: scalar ?? FieldDescriptorProto_Type.MESSAGE,
        typeName: scalar === undefined ? f.resolvedType!.fullName : '',
        jsonName: f.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
      });
    }),
    nestedType: t.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type).map(describeType),
  });
}
