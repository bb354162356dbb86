import { z } from 'zod'
import { validationFailed } from './errors.js'

export const limitSchema = z.coerce.number().int().min(1).max(200).default(50)
export const cursorSchema = z.string().max(200).optional()

/** Cursors are opaque to clients: base64url of the last row's sort key. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url')
}

export function decodeCursor(cursor: string | undefined, isValid: (key: string) => boolean): string | undefined {
  if (cursor === undefined) return undefined
  const key = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!isValid(key)) throw validationFailed('cursor is not valid', [{ path: 'querystring/cursor', message: 'not a cursor this endpoint issued' }])
  return key
}

export function page<T>(rows: T[], limit: number, keyOf: (row: T) => string): { data: T[]; nextCursor: string | null } {
  const data = rows.slice(0, limit)
  const last = data[data.length - 1]
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null }
}
