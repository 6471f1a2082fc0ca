import { RE2JS } from 're2js';

/**
 * A regular expression matched in time linear in its input (RE2's engine: no backreferences, no
 * lookaround), for patterns that come from requests (a server's ready line, a template's JSON
 * Schema): with JavaScript's backtracking engine, a pattern such as `(a+)+$` can take hours on one
 * line and block whoever matches it.
 */
export interface LinearRegExp {
  test(text: string): boolean;
}

const FLAGS: Record<string, number> = {
  i: RE2JS.CASE_INSENSITIVE,
  s: RE2JS.DOTALL,
  m: RE2JS.MULTILINE,
};

/** Compiles `pattern` (RE2 syntax); throws with the reason when it is not one. `u` and `g` are ignored. */
export function compileLinearRegExp(pattern: string, flags = ''): LinearRegExp {
  let bits = 0;
  for (const flag of flags) bits |= FLAGS[flag] ?? 0;
  const compiled = RE2JS.compile(pattern, bits);
  return { test: (text) => compiled.matcher(text).find() };
}

/** Why `pattern` is not a linear-time regular expression, or undefined when it is one. */
export function linearRegExpProblem(pattern: string): string | undefined {
  try {
    compileLinearRegExp(pattern);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
