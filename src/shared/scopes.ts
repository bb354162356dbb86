// The API's scopes: programs gives them to the clients it creates, the token route grants them and
// the auth plugin checks them, so they sit below all three.
import { z } from 'zod'

export const SCOPES = ['admin', 'program:manage', 'pos', 'members:read', 'members:write', 'balances:read', 'finance:read'] as const
export type Scope = (typeof SCOPES)[number]

/** Scopes a program's own clients may hold; `admin` belongs to the platform operator alone. */
export const PROGRAM_SCOPES = SCOPES.filter((s) => s !== 'admin') as Exclude<Scope, 'admin'>[]
export const programScopeSchema = z.enum(PROGRAM_SCOPES as [Exclude<Scope, 'admin'>, ...Exclude<Scope, 'admin'>[]])

export function parseScopeString(value: string): string[] {
  return value.split(/\s+/).filter(Boolean)
}
