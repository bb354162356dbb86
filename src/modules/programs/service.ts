import { randomBytes } from 'node:crypto'
import type { z } from 'zod'
import type { Database, Executor } from '../../db/client.js'
import { assertRulesFitCurrency, programRulesSchema, readRules } from './rules.js'
import { notFound, validationFailed } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { currencyExponent } from '../../shared/money.js'
import { isoTimestamp } from '../../shared/schemas.js'
import type { Principal } from '../../plugins/auth.js'
import { generateClientSecret, hashSecret } from '../../shared/secrets.js'
import * as repo from './repository.js'
import type { clientCreateSchema, programCreateSchema, programPatchSchema, programSchema, clientSchema } from './schemas.js'
import type { ApiClientRow, ProgramRow } from './tables.js'

export function toProgramView(p: ProgramRow): z.output<typeof programSchema> {
  return {
    id: p.id,
    name: p.name,
    currency: p.currency,
    currencyExponent: currencyExponent(p.currency)!,
    timezone: p.timezone,
    country: p.country,
    rules: readRules(p.rules),
    rulesEffectiveFrom: isoTimestamp(p.rulesEffectiveFrom),
    createdAt: isoTimestamp(p.createdAt),
    updatedAt: isoTimestamp(p.updatedAt),
  }
}

export function toClientView(c: ApiClientRow): z.output<typeof clientSchema> {
  return { clientId: c.id, name: c.name, scopes: c.scopes, createdAt: isoTimestamp(c.createdAt), revokedAt: c.revokedAt ? isoTimestamp(c.revokedAt) : null }
}

/**
 * The platform admin reaches every program; a program:manage client only its own.
 * Anything else is told the program does not exist, so ids of other tenants reveal nothing.
 */
export async function loadManagedProgram(ex: Executor, principal: Principal, programId: string): Promise<ProgramRow> {
  if (!principal.admin && principal.program?.id !== programId) throw notFound('Program')
  const program = await repo.findProgram(ex, programId)
  if (!program) throw notFound('Program')
  return program
}

/** The initial rules apply to everything before the program existed too (an offline upload cannot predate them). */
const BEGINNING = new Date('1970-01-01T00:00:00Z')

/** In the caller's transaction: the idempotent one of POST /v1/programs. */
export async function createProgram(tx: Executor, input: z.output<typeof programCreateSchema>, actor: string): Promise<ProgramRow> {
  assertRulesFitCurrency(input.rules, input.currency)
  const program = await repo.insertProgram(tx, { id: newId(), ...input, rulesEffectiveFrom: BEGINNING })
  await repo.insertRuleVersion(tx, { programId: program.id, effectiveFrom: BEGINNING, rules: input.rules, createdBy: actor })
  return program
}

export async function patchProgram(database: Database, program: ProgramRow, patch: z.output<typeof programPatchSchema>, actor: string): Promise<ProgramRow> {
  const { rules: rulesPatch, ...fields } = patch
  return database.transaction(async (tx) => {
    if (!rulesPatch) {
      const updated = await repo.updateProgram(tx, program.id, fields)
      if (!updated) throw notFound('Program')
      return updated
    }
    const merged = programRulesSchema.safeParse({ ...readRules(program.rules), ...rulesPatch })
    if (!merged.success) {
      const errors = merged.error.issues.map((i) => ({ path: ['body', 'rules', ...i.path].join('/'), message: i.message }))
      throw validationFailed(errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors)
    }
    assertRulesFitCurrency(merged.data, program.currency)
    const effectiveFrom = new Date()
    const updated = await repo.updateProgram(tx, program.id, { ...fields, rules: merged.data, rulesEffectiveFrom: effectiveFrom })
    if (!updated) throw notFound('Program')
    await repo.insertRuleVersion(tx, { programId: program.id, effectiveFrom, rules: merged.data, createdBy: actor })
    return updated
  })
}

export async function createClient(
  ex: Executor,
  program: ProgramRow,
  input: z.output<typeof clientCreateSchema>,
  createdBy: string,
): Promise<{ client: ApiClientRow; secret: string }> {
  const secret = generateClientSecret()
  const client = await repo.insertClient(ex, {
    id: `llc_${randomBytes(15).toString('base64url')}`,
    programId: program.id,
    name: input.name,
    scopes: [...new Set(input.scopes)],
    secretHash: await hashSecret(secret),
    createdBy,
  })
  return { client, secret }
}

export async function revokeClient(ex: Executor, program: ProgramRow, clientId: string, revokedBy: string): Promise<void> {
  const revoked = await repo.revokeClient(ex, program.id, clientId, revokedBy)
  if (revoked) return
  const existing = await repo.findClient(ex, clientId)
  // Revoking twice is not an error; revoking another program's client is "not found".
  if (!existing || existing.programId !== program.id) throw notFound('Client')
}
