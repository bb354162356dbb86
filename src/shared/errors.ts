import type { ProblemCode } from '../modules/problems/catalog.js'

/** A failure the client can act on: mapped to application/problem+json at the edge. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    /** A code of the catalog (src/modules/problems/catalog.ts): typed so a new code must be described there. */
    readonly code: ProblemCode,
    readonly title: string,
    detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title)
  }
}

export interface FieldProblem {
  path: string
  message: string
}

export const validationFailed = (detail: string, errors: FieldProblem[] = []) =>
  new AppError(400, 'VALIDATION_FAILED', 'Request validation failed', detail, { errors })

/** VALIDATION_FAILED for these fields, the detail listing each as `path: message`. */
export const invalidFields = (errors: FieldProblem[]) => validationFailed(errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors)

export const notFound = (what: string) => new AppError(404, 'NOT_FOUND', 'Not found', `${what} not found`)

export const conflict = (detail: string, extensions: Record<string, unknown> = {}) =>
  new AppError(409, 'CONFLICT', 'Conflict', detail, extensions)

export const unauthorized = (detail: string) => new AppError(401, 'UNAUTHORIZED', 'Unauthorized', detail)

export const forbidden = (detail: string) => new AppError(403, 'FORBIDDEN', 'Forbidden', detail)

/** The error and the causes it wraps (drizzle wraps driver errors), outermost first. */
export function* causesOf(err: unknown): Generator<Record<string, unknown>> {
  let e = err as Record<string, unknown> | undefined
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    yield e
    e = e.cause as Record<string, unknown> | undefined
  }
}

/** PostgreSQL's SQLSTATE and constraint of an error, whether postgres.js, PGlite or drizzle raised it. */
export function pgErrorOf(err: unknown): { code?: string; constraint?: string; message?: string } {
  for (const e of causesOf(err)) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
      return { code: e.code, constraint: (e.constraint_name ?? e.constraint) as string | undefined, message: e.message as string | undefined }
    }
  }
  return {}
}
