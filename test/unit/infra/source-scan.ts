import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * What a function's code needs from its environment, found by reading it: the environment
 * variables it reads and the packages it imports, over the function's folder and every
 * module it imports inside the repo (#shared/..., #functions/..., relative paths).
 *
 * Environment reads are found as `process.env.X`, `process.env['X']`, `const { X } =
 * process.env`, and as UPPER_SNAKE keys of zod objects (`X: z.string()`, `.extend({ X: ... })`),
 * which is how the functions declare their env schemas (shared/config/parse-env.ts).
 */
export interface SourceUse {
  files: string[];
  envNames: Set<string>;
  packages: Set<string>;
  /** repo-internal imports that leave shared/ and the function's own folder */
  foreignImports: Array<{ from: string; specifier: string }>;
}

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

const ENV_NAME = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Z]{2,}[A-Z0-9]*$/;

export function scanFunction(source: string, root = REPO_ROOT): SourceUse {
  const folder = join(root, 'functions', source);
  if (!existsSync(folder)) throw new Error(`functions/${source} does not exist`);
  const entries = listTs(folder);
  if (entries.length === 0) throw new Error(`functions/${source} has no TypeScript files`);
  const use: SourceUse = { files: [], envNames: new Set(), packages: new Set(), foreignImports: [] };
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    use.files.push(relative(root, file));
    const found = scanSource(readFileSync(file, 'utf8'), file);
    for (const n of found.envNames) use.envNames.add(n);
    for (const spec of found.imports) {
      const target = resolveImport(spec, file, root);
      if (target === undefined) {
        use.packages.add(packageName(spec));
        continue;
      }
      if (target === null) continue; // node: builtins
      const rel = relative(root, target);
      if (!rel.startsWith(`shared/`) && !rel.startsWith(`functions/${source}/`)) use.foreignImports.push({ from: relative(root, file), specifier: spec });
      if (existsSync(target)) queue.push(target);
    }
  }
  return use;
}

/** Env names and import specifiers of one TypeScript source text. */
export function scanSource(text: string, fileName = 'source.ts'): { envNames: Set<string>; imports: string[] } {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const envNames = new Set<string>();
  const imports: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      // type-only imports do not load anything at run time
      const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly === true : node.isTypeOnly;
      if (!typeOnly) imports.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteral(node.arguments[0]!)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) imports.push((node.arguments[0] as ts.StringLiteral).text);
    }
    if (ts.isPropertyAccessExpression(node) && isProcessEnv(node.expression)) envNames.add(node.name.text);
    if (ts.isElementAccessExpression(node) && isProcessEnv(node.expression) && ts.isStringLiteralLike(node.argumentExpression)) envNames.add(node.argumentExpression.text);
    if (ts.isVariableDeclaration(node) && node.initializer && isProcessEnv(node.initializer) && ts.isObjectBindingPattern(node.name)) {
      for (const el of node.name.elements) {
        const key = el.propertyName ?? el.name;
        if (ts.isIdentifier(key) || ts.isStringLiteral(key)) envNames.add(key.text);
      }
    }
    if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) && ENV_NAME.test(node.name.text) && isZodExpression(node.initializer)) {
      envNames.add(node.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { envNames, imports };
}

function isProcessEnv(e: ts.Expression): boolean {
  return ts.isPropertyAccessExpression(e) && e.name.text === 'env' && ts.isIdentifier(e.expression) && e.expression.text === 'process';
}

/** `z.string()...`, `z.coerce.number()`, or a named schema such as `fooSchema.optional()`. */
function isZodExpression(e: ts.Expression): boolean {
  let cur: ts.Expression = e;
  for (;;) {
    if (ts.isCallExpression(cur)) cur = cur.expression;
    else if (ts.isPropertyAccessExpression(cur)) cur = cur.expression;
    else break;
  }
  return ts.isIdentifier(cur) && (cur.text === 'z' || /Schema$/.test(cur.text));
}

/** A repo file for a repo-internal specifier; null for node builtins; undefined for a package. */
function resolveImport(spec: string, from: string, root: string): string | null | undefined {
  if (spec.startsWith('node:')) return null;
  let base: string | undefined;
  const sub = /^#(shared|functions|local|test)\/(.+)$/.exec(spec);
  if (sub) base = join(root, sub[1]!, sub[2]!);
  else if (spec.startsWith('.')) base = resolve(dirname(from), spec);
  if (base === undefined) return isBuiltin(spec) ? null : undefined;
  for (const candidate of [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return base; // missing: reported by the caller as a file it cannot read
}

function isBuiltin(spec: string): boolean {
  return builtinModules.includes(spec);
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
