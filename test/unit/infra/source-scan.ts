import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * What a function's code needs from its environment, found by reading it (the TypeScript
 * parser, no type checking): the environment variables it reads and the packages it imports,
 * over the function's folder and every repo module it imports (#shared/..., relative paths).
 *
 * Environment reads are `process.env.X`, `process.env['X']`, `const { X } = process.env`, and
 * the keys of every zod schema the code parses the environment with: `parseEnv(schema)` or
 * `schema.parse(process.env)` / `safeParse(process.env)`. A schema is followed through
 * `const` declarations, imports, `.extend({...})`, `z.object({...})`, `...other.shape` and
 * wrappers such as `.strict()`, so helper-built fields (`X: int(5)`) count like `X: z.string()`.
 */
export interface SourceUse {
  files: string[];
  envNames: Set<string>;
  packages: Set<string>;
  /** repo-internal imports that leave shared/ and the function's own folder (not shipped) */
  foreignImports: Array<{ from: string; specifier: string }>;
  /** schemas passed to parseEnv that could not be followed to their keys */
  unresolvedSchemas: string[];
  /** where each env schema passed to parseEnv is declared, so a test can load it and ask which keys are optional */
  schemaExports: Array<{ file: string; name: string }>;
}

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

interface ParsedFile {
  sf: ts.SourceFile;
  decls: Map<string, ts.Expression>;
  /** local name -> where it is imported from */
  imported: Map<string, { file: string | undefined; name: string }>;
}

export function scanFunction(source: string, root = REPO_ROOT): SourceUse {
  const folder = join(root, 'functions', source);
  if (!existsSync(folder)) throw new Error(`functions/${source} does not exist`);
  const entries = listTs(folder);
  if (entries.length === 0) throw new Error(`functions/${source} has no TypeScript files`);
  const use: SourceUse = { files: [], envNames: new Set(), packages: new Set(), foreignImports: [], unresolvedSchemas: [], schemaExports: [] };
  const parsed = new Map<string, ParsedFile>();
  const load = (file: string): ParsedFile => {
    let p = parsed.get(file);
    if (!p) {
      p = parseFile(file, root);
      parsed.set(file, p);
    }
    return p;
  };
  const schemas: Array<{ file: string; expr: ts.Expression }> = [];
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    use.files.push(relative(root, file));
    const p = load(file);
    const found = scanParsed(p.sf);
    for (const n of found.envNames) use.envNames.add(n);
    for (const expr of found.envSchemas) schemas.push({ file, expr });
    for (const spec of found.imports) {
      const target = resolveImport(spec, file, root);
      if (target === undefined) {
        use.packages.add(packageName(spec));
        continue;
      }
      if (target === null) continue;
      const rel = relative(root, target);
      if (!rel.startsWith('shared/') && !rel.startsWith(`functions/${source}/`)) use.foreignImports.push({ from: relative(root, file), specifier: spec });
      if (existsSync(target)) queue.push(target);
    }
  }
  for (const { file, expr } of schemas) {
    const keys = schemaKeys(expr, file, load, 0);
    if (keys === undefined) use.unresolvedSchemas.push(`${relative(root, file)}: ${expr.getText()}`);
    else for (const k of keys) use.envNames.add(k);
    if (ts.isIdentifier(expr)) {
      const p = load(file);
      const imp = p.imported.get(expr.text);
      if (p.decls.has(expr.text)) use.schemaExports.push({ file, name: expr.text });
      else if (imp?.file) use.schemaExports.push({ file: imp.file, name: imp.name });
    }
  }
  return use;
}

/** Env names read directly, env schemas parsed, and import specifiers of one source text. */
export function scanSource(text: string, fileName = 'source.ts'): { envNames: Set<string>; imports: string[]; schemaKeys: Set<string> } {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found = scanParsed(sf);
  const p: ParsedFile = { sf, ...declarations(sf, fileName, REPO_ROOT) };
  const schemaKeysFound = new Set<string>();
  for (const expr of found.envSchemas) for (const k of schemaKeys(expr, fileName, () => p, 0) ?? []) schemaKeysFound.add(k);
  return { envNames: found.envNames, imports: found.imports, schemaKeys: schemaKeysFound };
}

function scanParsed(sf: ts.SourceFile): { envNames: Set<string>; imports: string[]; envSchemas: ts.Expression[] } {
  const envNames = new Set<string>();
  const imports: string[] = [];
  const envSchemas: ts.Expression[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      // type-only imports load nothing at run time
      const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly === true : node.isTypeOnly;
      if (!typeOnly) imports.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const first = node.arguments[0];
      if (first && ts.isStringLiteral(first) && (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require'))) imports.push(first.text);
      if (first && ts.isIdentifier(callee) && callee.text === 'parseEnv') envSchemas.push(first);
      if (first && isProcessEnv(first) && ts.isPropertyAccessExpression(callee) && ['parse', 'safeParse', 'parseAsync', 'safeParseAsync'].includes(callee.name.text))
        envSchemas.push(callee.expression);
    }
    if (ts.isPropertyAccessExpression(node) && isProcessEnv(node.expression)) envNames.add(node.name.text);
    if (ts.isElementAccessExpression(node) && isProcessEnv(node.expression) && ts.isStringLiteralLike(node.argumentExpression)) envNames.add(node.argumentExpression.text);
    if (ts.isVariableDeclaration(node) && node.initializer && isProcessEnv(node.initializer) && ts.isObjectBindingPattern(node.name)) {
      for (const el of node.name.elements) {
        const key = el.propertyName ?? el.name;
        if (ts.isIdentifier(key) || ts.isStringLiteral(key)) envNames.add(key.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { envNames, imports, envSchemas };
}

function parseFile(file: string, root: string): ParsedFile {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  return { sf, ...declarations(sf, file, root) };
}

function declarations(sf: ts.SourceFile, file: string, root: string): Omit<ParsedFile, 'sf'> {
  const decls = new Map<string, ts.Expression>();
  const imported = new Map<string, { file: string | undefined; name: string }>();
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name) && d.initializer) decls.set(d.name.text, d.initializer);
    } else if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const target = resolveImport(st.moduleSpecifier.text, file, root) ?? undefined;
      const named = st.importClause?.namedBindings;
      if (named && ts.isNamedImports(named)) {
        for (const el of named.elements) imported.set(el.name.text, { file: target, name: (el.propertyName ?? el.name).text });
      }
    }
  }
  return { decls, imported };
}

const OBJECT_FACTORIES = new Set(['object', 'strictObject', 'looseObject']);
const MERGERS = new Set(['extend', 'merge', 'safeExtend']);

/** The keys of the zod object schema an expression builds, or undefined when it cannot be followed. */
function schemaKeys(expr: ts.Expression, file: string, load: (file: string) => ParsedFile, depth: number): Set<string> | undefined {
  if (depth > 40) return undefined;
  const again = (e: ts.Expression, f = file) => schemaKeys(e, f, load, depth + 1);
  if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr)) return again(expr.expression);
  if (ts.isIdentifier(expr)) {
    const p = load(file);
    const local = p.decls.get(expr.text);
    if (local) return again(local);
    const imp = p.imported.get(expr.text);
    if (imp?.file && existsSync(imp.file)) {
      const target = load(imp.file).decls.get(imp.name);
      if (target) return again(target, imp.file);
    }
    return undefined;
  }
  if (ts.isPropertyAccessExpression(expr) && expr.name.text === 'shape') return again(expr.expression);
  if (ts.isObjectLiteralExpression(expr)) return objectKeys(expr, again);
  if (ts.isCallExpression(expr)) {
    const callee = expr.expression;
    if (ts.isPropertyAccessExpression(callee)) {
      const method = callee.name.text;
      const arg = expr.arguments[0];
      if (OBJECT_FACTORIES.has(method) && ts.isIdentifier(callee.expression) && callee.expression.text === 'z' && arg) return again(arg);
      if (MERGERS.has(method) && arg) {
        const base = again(callee.expression);
        const more = again(arg);
        return base && more ? new Set([...base, ...more]) : undefined;
      }
      // .strict(), .passthrough(), .superRefine(...), .transform(...) and the like keep the keys
      return again(callee.expression);
    }
  }
  return undefined;
}

function objectKeys(obj: ts.ObjectLiteralExpression, again: (e: ts.Expression) => Set<string> | undefined): Set<string> | undefined {
  const keys = new Set<string>();
  for (const prop of obj.properties) {
    if ((ts.isPropertyAssignment(prop) || ts.isShorthandPropertyAssignment(prop) || ts.isMethodDeclaration(prop)) && (ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name))) {
      keys.add(prop.name.text);
    } else if (ts.isSpreadAssignment(prop)) {
      const more = again(prop.expression);
      if (!more) return undefined;
      for (const k of more) keys.add(k);
    } else {
      return undefined;
    }
  }
  return keys;
}

function isProcessEnv(e: ts.Expression): boolean {
  return ts.isPropertyAccessExpression(e) && e.name.text === 'env' && ts.isIdentifier(e.expression) && e.expression.text === 'process';
}

/** A repo file for a repo-internal specifier; null for node builtins; undefined for a package. */
function resolveImport(spec: string, from: string, root: string): string | null | undefined {
  if (spec.startsWith('node:') || builtinModules.includes(spec)) return null;
  let base: string | undefined;
  const sub = /^#(shared|functions|local|test)\/(.+)$/.exec(spec);
  if (sub) base = join(root, sub[1]!, sub[2]!);
  else if (spec.startsWith('.')) base = resolve(dirname(from), spec);
  if (base === undefined) return undefined;
  for (const candidate of [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return base;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return listTs(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}
