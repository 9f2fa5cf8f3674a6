import { LOG_SEVERITY, type LogEntry } from './log-entry';

/**
 * The subset of the Logging query language (cloud.google.com/logging/docs/view/logging-query-language)
 * that dropship's log-based metrics use, parsed and evaluated against LogEntry objects.
 *
 * Supported:
 * - comparisons `PATH OP VALUE` with OP one of `=`, `=~` (RE2 search, unanchored; evaluated with
 *   JavaScript RegExp, which agrees with RE2 on the plain patterns used here), `>`, `>=`, `<`,
 *   `<=` (on severity, by LogSeverity rank, or on numbers);
 * - PATH: dotted names over the LogEntry (resource.type, resource.labels.x, severity, logName,
 *   labels.x, textPayload, jsonPayload.a.b, ...); a path that does not exist in an entry makes
 *   the comparison false;
 * - VALUE: a double-quoted string (with \" and \\ escapes) or a bare word / number;
 * - `AND`, `OR`, `NOT`, parentheses, and juxtaposition (a line break or space) as AND, with the
 *   language's precedence: NOT binds tightest, then OR, then AND (`a OR b c` is `(a OR b) AND c`).
 *
 * Anything else fails to parse with an error naming it, so a filter that uses more of the
 * language is never matched silently: the `:` (has) operator, `!=`, `!~`, `-` negation, bare
 * global restrictions, functions such as `log_id()`, `sample()`, `SEARCH()`, and timestamps.
 */
export type LoggingQuery = { kind: 'and' | 'or'; parts: LoggingQuery[] } | { kind: 'not'; part: LoggingQuery } | { kind: 'cmp'; path: string[]; op: CmpOp; value: string; quoted: boolean };

type CmpOp = '=' | '=~' | '>' | '>=' | '<' | '<=';
type Token = { t: 'word' | 'string' | 'op' | 'lparen' | 'rparen'; v: string; at: number };

const SUPPORTED_OPS = new Set(['=', '=~', '>', '>=', '<', '<=']);

export function parseLoggingQuery(text: string): LoggingQuery {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const fail = (why: string, tok = peek()): never => {
    throw new Error(`unsupported logging query (${why}) at ${tok ? `offset ${tok.at} '${tok.v}'` : 'the end'} in: ${text}`);
  };
  const isWord = (v: string) => peek()?.t === 'word' && peek()!.v === v;

  function conjunction(): LoggingQuery {
    const parts = [disjunction()];
    for (;;) {
      const tok = peek();
      if (!tok || tok.t === 'rparen') break;
      if (isWord('AND')) i++;
      parts.push(disjunction());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'and', parts };
  }
  function disjunction(): LoggingQuery {
    const parts = [unary()];
    while (isWord('OR')) {
      i++;
      parts.push(unary());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'or', parts };
  }
  function unary(): LoggingQuery {
    if (isWord('NOT')) {
      i++;
      return { kind: 'not', part: unary() };
    }
    const tok = peek();
    if (!tok) return fail('an expression was expected');
    if (tok.t === 'lparen') {
      i++;
      const inner = conjunction();
      if (peek()?.t !== 'rparen') fail('a closing parenthesis was expected');
      i++;
      return inner;
    }
    if (tok.t !== 'word') return fail('a field path was expected');
    if (tok.v.startsWith('-')) return fail('`-` negation is not supported');
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(tok.v)) return fail('not a plain dotted field path');
    i++;
    const op = peek();
    if (op?.t === 'lparen') return fail('functions are not supported', tok);
    if (op?.t !== 'op') return fail('bare global restrictions are not supported', tok);
    if (!SUPPORTED_OPS.has(op.v)) return fail(`the ${op.v} operator is not supported`, op);
    i++;
    const value = peek();
    if (!value || (value.t !== 'word' && value.t !== 'string')) return fail('a value was expected');
    i++;
    return { kind: 'cmp', path: tok.v.split('.'), op: op.v as CmpOp, value: value.v, quoted: value.t === 'string' };
  }

  const q = conjunction();
  if (i < tokens.length) fail('unexpected token');
  validate(q);
  return q;
}

export function matchesLoggingQuery(q: LoggingQuery, entry: LogEntry): boolean {
  switch (q.kind) {
    case 'and':
      return q.parts.every((p) => matchesLoggingQuery(p, entry));
    case 'or':
      return q.parts.some((p) => matchesLoggingQuery(p, entry));
    case 'not':
      return !matchesLoggingQuery(q.part, entry);
    case 'cmp':
      return compare(q, lookup(entry, q.path));
  }
}

/** The value at a dotted path of a LogEntry, or undefined when absent. */
export function lookup(entry: LogEntry, path: string[]): unknown {
  let cur: unknown = entry;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function compare(q: Extract<LoggingQuery, { kind: 'cmp' }>, actual: unknown): boolean {
  if (actual === undefined || actual === null) return false;
  const isSeverity = q.path.length === 1 && q.path[0] === 'severity';
  if (q.op === '=~') return typeof actual === 'string' && new RegExp(q.value).test(actual);
  if (isSeverity) {
    const a = LOG_SEVERITY[String(actual)]!;
    const b = LOG_SEVERITY[q.value.toUpperCase()]!;
    return ordered(q.op, a, b);
  }
  if (q.op === '=') {
    if (typeof actual === 'string') return actual === q.value;
    if (typeof actual === 'number') return Number(q.value) === actual;
    if (typeof actual === 'boolean') return String(actual) === q.value.toLowerCase();
    return false;
  }
  if (typeof actual !== 'number') throw new Error(`ordering comparison on a non-numeric field ${q.path.join('.')}`);
  return ordered(q.op, actual, Number(q.value));
}

function ordered(op: CmpOp, a: number, b: number): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    default:
      throw new Error(`operator ${op} is not an ordering`);
  }
}

function validate(q: LoggingQuery): void {
  if (q.kind === 'cmp') validateComparison(q);
  else if (q.kind === 'not') validate(q.part);
  else q.parts.forEach(validate);
}

function validateComparison(q: Extract<LoggingQuery, { kind: 'cmp' }>): void {
  const where = `${q.path.join('.')}${q.op}${q.value}`;
  if (q.op === '=~') {
    if (!q.quoted) throw new Error(`unsupported logging query: a regular expression must be quoted (${where})`);
    new RegExp(q.value); // throws on a pattern JavaScript cannot read
  }
  const isSeverity = q.path.length === 1 && q.path[0] === 'severity';
  if (isSeverity && q.op !== '=~' && !(q.value.toUpperCase() in LOG_SEVERITY)) throw new Error(`unsupported logging query: ${q.value} is not a LogSeverity (${where})`);
  if (!isSeverity && ['>', '>=', '<', '<='].includes(q.op) && !/^-?\d+(\.\d+)?$/.test(q.value)) throw new Error(`unsupported logging query: ordering on a non-numeric value (${where})`);
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === '(' || c === ')') {
      out.push({ t: c === '(' ? 'lparen' : 'rparen', v: c, at });
      i++;
      continue;
    }
    if (c === '"') {
      let v = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) {
          const next = text[i + 1]!;
          // Logging strings keep backslashes that do not escape a quote or a backslash (regex classes such as \d).
          v += next === '"' || next === '\\' ? next : `\\${next}`;
          i += 2;
        } else v += text[i++];
      }
      if (text[i] !== '"') throw new Error(`unsupported logging query: unterminated string at offset ${at} in: ${text}`);
      i++;
      out.push({ t: 'string', v, at });
      continue;
    }
    const op = /^(=~|!~|>=|<=|!=|=|>|<|:)/.exec(text.slice(i));
    if (op) {
      out.push({ t: 'op', v: op[1]!, at });
      i += op[1]!.length;
      continue;
    }
    const word = /^[^\s()"=!<>:~]+/.exec(text.slice(i));
    if (!word) throw new Error(`unsupported logging query: unexpected '${c}' at offset ${at} in: ${text}`);
    out.push({ t: 'word', v: word[0], at });
    i += word[0].length;
  }
  return out;
}
