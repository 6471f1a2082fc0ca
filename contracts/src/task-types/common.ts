import { z } from 'zod';

/*
 * Building blocks of the task types' payloads: ids that become directory names, paths that must
 * stay inside a server's directory, checksums and transfer URLs.
 */

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/**
 * A server's id (the task's `targetId`): it names the server's directory on the node, so it keeps
 * to letters, digits, ".", "_" and "-" (a UUID fits), at most 200, not starting with a sign.
 */
export const ServerIdSchema = z
  .string()
  .regex(SAFE_ID, 'letters, digits, ".", "_" and "-", at most 200, starting with a letter or digit');

export function isValidServerId(id: string): boolean {
  return SAFE_ID.test(id) && id !== '.' && id !== '..';
}

/** Text without NUL (it cannot travel in argv, environment or file names). */
export const noNul = (what: string) =>
  z.string().refine((value) => !value.includes('\0'), `${what} must not contain NUL`);

/**
 * A path relative to a server's directory: no leading "/", no ".." segment, no NUL, no
 * backslash; "." is the directory itself. The agent also refuses a path that leaves the directory
 * through a symbolic link.
 */
export const RelativePathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((path) => !path.includes('\0'), 'must not contain NUL')
  .refine((path) => !path.startsWith('/'), 'must be relative to the server directory (no leading "/")')
  .refine((path) => !path.includes('\\'), 'use "/" as the separator')
  .refine((path) => !path.split('/').includes('..'), 'must not contain a ".." segment');

/** One file name: no separator, not "." or "..". */
export const FileNameSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((name) => !/[/\\\0]/.test(name) && name !== '.' && name !== '..', 'a file name, no "/"');

/** SHA-256 as 64 hexadecimal digits (either case; compared in lower case). */
export const Sha256Schema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 as 64 hexadecimal digits')
  .transform((hex) => hex.toLowerCase());

/**
 * A URL the agent downloads from or uploads to (a presigned URL of a files service, say): http
 * or https, at most 8 KiB (presigned URLs are long).
 */
export const TransferUrlSchema = z.url({ protocol: /^https?$/ }).max(8192);

/** Extra HTTP request headers for a transfer (an authorization header, a content type). */
export const TransferHeadersSchema = z
  .record(
    z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, 'an HTTP header name'),
    z
      .string()
      .max(4096)
      .refine((value) => !/[\r\n\0]/.test(value), 'no CR, LF or NUL'),
  )
  .refine((headers) => Object.keys(headers).length <= 20, 'at most 20 headers');

/** Environment variables of a program: names without "=" or NUL, values without NUL. */
export const EnvironmentSchema = z
  .record(
    z
      .string()
      .regex(/^[^=\0]+$/, 'a variable name without "="')
      .max(200),
    noNul('a value').max(32_768),
  )
  .refine((env) => Object.keys(env).length <= 200, 'at most 200 variables');
