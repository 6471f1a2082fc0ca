import picomatch from 'picomatch';

/**
 * Whether a path (relative to the server directory, "/"-separated) is left out of a backup.
 * Patterns use picomatch syntax with dotfiles matched; a pattern without "/" matches the base name
 * at any depth (like .gitignore: `*.log`, `cache`); an excluded directory is left out whole.
 */
export function excludeMatcher(patterns: readonly string[]): (path: string) => boolean {
  if (patterns.length === 0) return () => false;
  const matches = picomatch([...patterns], { dot: true, basename: true });
  return (path) => matches(path);
}
