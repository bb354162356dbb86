// The reversal of a journal entry as one plan (src/db/apply.ts): load the entry with its postings
// and its version (and, for a reversal allowed into an overdraft, the lots it takes), decide the
// mirrored entry (pure), apply: the original locked at the version read, the entry, its lots and
// the idempotency record in one statement. The unique index on reverses_entry_id still refuses a
// second reversal; a reversal that meets one committed meanwhile answers ALREADY_REVERSED.
import { and, eq } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { Database } from '../../db/client.js'
import { appliedFresh, filled, PlanError, type Fill, type PlanData } from '../../db/apply.js'
import { rowVersion } from '../../db/core.js'
import { AppError, notFound, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { currencyExponent } from '../../shared/money.js'
import { memberWallets, POINTS, type AccountRef } from './accounts.js'
import { entryFills, entryStep, plannedEntryRecord } from './entry-step.js'
import { alreadyReversed, cannotReverseRewardRedemption, insufficientFunds } from './errors.js'
import { loadMemberLots } from './lots.js'
import { lotSteps, overdraftMembers, type MemberLots } from './lot-steps.js'
import { mirrorLegs, type EntryPlan } from './planner.js'
import { rememberAccounts } from './repository.js'
import { journalEntries, ledgerAccounts, postings } from './tables.js'
import { entryView } from './views.js'

/** A posted entry's postings; member wallets with their balance after, system accounts without. */
export interface PostedEntry {
  entryId: string
  postings: { account: AccountRef; amount: bigint; balanceAfter?: bigint }[]
}

/** The entry to reverse as the load read it. */
export interface OriginalEntry {
  id: string
  kind: string
  version: string
  memberId: string | null
  storeId: string | null
  referenceType: string | null
  referenceId: string | null
  reversesEntryId: string | null
  reversedByEntryId: string | null
  postings: { account: AccountRef; amount: bigint }[]
}

export interface ReversalOptions {
  reason: string
  allowOverdraft?: boolean
  /** Expiry of points given back to lots that expired meanwhile (restoredPointsExpiry). */
  restoredPointsExpireAt?: Date | null
}

interface ReversalProgram {
  id: string
  currency: string
}

const reversedBy = alias(journalEntries, 'reversed_by')

async function loadEntry(database: Database, programId: string, entryId: string): Promise<OriginalEntry | undefined> {
  const db = database.db
  const [[entry], lines] = await Promise.all([
    db
      .select({
        id: journalEntries.id,
        kind: journalEntries.kind,
        version: rowVersion(journalEntries),
        memberId: journalEntries.memberId,
        storeId: journalEntries.storeId,
        referenceType: journalEntries.referenceType,
        referenceId: journalEntries.referenceId,
        reversesEntryId: journalEntries.reversesEntryId,
        reversedByEntryId: reversedBy.id,
      })
      .from(journalEntries)
      .leftJoin(reversedBy, and(eq(reversedBy.programId, journalEntries.programId), eq(reversedBy.reversesEntryId, journalEntries.id)))
      .where(and(eq(journalEntries.programId, programId), eq(journalEntries.id, entryId))),
    db
      .select({ type: ledgerAccounts.type, asset: postings.asset, memberId: ledgerAccounts.memberId, storeId: ledgerAccounts.storeId, amount: postings.amount })
      .from(postings)
      .innerJoin(ledgerAccounts, and(eq(ledgerAccounts.programId, postings.programId), eq(ledgerAccounts.id, postings.accountId)))
      .where(and(eq(postings.programId, programId), eq(postings.entryId, entryId)))
      .orderBy(postings.seq),
  ])
  if (!entry) return undefined
  const account = (p: (typeof lines)[number]): AccountRef => ({ type: p.type as AccountRef['type'], asset: p.asset, memberId: p.memberId ?? undefined, storeId: p.storeId ?? undefined })
  return { ...entry, postings: lines.map((p) => ({ account: account(p), amount: p.amount })) }
}

/** Pure: the mirrored entry, or the refusal of an entry that is a reversal or already reversed. */
export function reversalPlan(original: OriginalEntry, options: ReversalOptions, ctx: { now: Date; entryId: string }): EntryPlan & { id: string } {
  if (original.reversesEntryId) throw new AppError(409, 'CANNOT_REVERSE_REVERSAL', 'Cannot reverse a reversal', 'This entry is itself a reversal; post a new entry instead')
  if (original.reversedByEntryId) throw alreadyReversed()
  // A reward's points come back with its coupon voided, its stock and counts given back: only its cancellation does all of it.
  if (original.kind === 'reward_redemption') throw cannotReverseRewardRedemption()
  return {
    id: ctx.entryId,
    kind: 'reversal',
    effectiveAt: ctx.now,
    memberId: original.memberId ?? undefined,
    storeId: original.storeId ?? undefined,
    reason: options.reason,
    referenceType: original.referenceType ?? undefined,
    referenceId: original.referenceId ?? undefined,
    reversesEntryId: original.id,
    allowOverdraft: options.allowOverdraft,
    // Points the original credited leave from the lot it opened; points it debited go back where they were taken.
    consumeLotsOf: original.id,
    restoreLotsOf: original.id,
    pointsExpireAt: options.restoredPointsExpireAt ?? null,
    legs: mirrorLegs(original.postings),
  }
}

/** Pure: the reversal as one plan, with its answer (the entry as GET shows it) and the wallets' balances after left to fill. */
export function reversalData(program: ReversalProgram, original: OriginalEntry, lots: Map<string, MemberLots>, options: ReversalOptions, ctx: { now: Date; entryId: string; actor: string }) {
  const plan = reversalPlan(original, options, ctx)
  const { step, planned, accountIds } = entryStep(program.id, plan, ctx.actor)
  step.entry.createdAt = ctx.now.toISOString()
  const lotPlan = lotSteps(program.id, plan.id, plan, lots)
  if (!lotPlan) throw new RangeError('a reversal into an overdraft needs the member’s lots loaded')
  const data: PlanData = {
    program: program.id,
    locks: [{ table: 'journal_entries', key: { id: original.id }, version: original.version, missing: { code: 'LL404', message: 'entry_not_found' } }],
    entries: [step],
    lots: lotPlan,
    // Both of the member's wallets in the one lock order, as every plan of a member takes them.
    ...(original.memberId ? { wallets: memberWallets(program, original.memberId, currencyExponent(program.currency) ?? 0) } : {}),
  }
  const fills: Fill[] = entryFills(planned, [])
  return { data, answer: entryView(plannedEntryRecord(program.id, plan, planned, ctx)), fills, planned, accountIds }
}

/**
 * Reverses the entry once; the answer as the route gives it (201 and the entry) and the postings
 * with their balances after. `idempotency`: the key's record goes into the plan.
 */
export function reverseEntry(
  database: Database,
  program: ReversalProgram,
  entryId: string,
  options: ReversalOptions,
  actor: string,
  idempotency?: { key: string; hash: string },
): Promise<{ status: number; body: unknown; posted: PostedEntry }> {
  return appliedFresh(async () => {
    const original = await loadEntry(database, program.id, entryId)
    if (!original) throw notFound('Entry')
    const now = new Date()
    const members = original.reversesEntryId || original.reversedByEntryId ? [] : overdraftMembers(reversalPlan(original, options, { now, entryId: newId() }))
    const lots = new Map(await Promise.all(members.map(async (m) => [m, await loadMemberLots(database.db, program.id, m)] as const)))
    const r = reversalData(program, original, lots, options, { now, entryId: newId(), actor })
    let applied
    try {
      applied = await database.apply({ ...r.data, ...(idempotency ? { idempotency: { ...idempotency, status: 201, body: r.answer, fills: r.fills } } : {}) })
    } catch (err) {
      throw await refusalOf(database, program.id, entryId, err)
    }
    rememberAccounts(program.id, r.accountIds)
    const balances = applied.facts
    const posted: PostedEntry = {
      entryId: r.answer.id,
      postings: r.planned.map((p) => {
        const after = balances[`entry.0.${p.seq}`]
        return { account: p.account, amount: p.amount, balanceAfter: after === undefined || after === null ? undefined : BigInt(after as string) }
      }),
    }
    return { status: 201, body: filled(r.answer, r.fills, applied.facts), posted }
  })
}

/** A refused plan as the API answers it: a reversal committed meanwhile (its entry, or the wallet it emptied) is ALREADY_REVERSED. */
async function refusalOf(database: Database, programId: string, entryId: string, err: unknown): Promise<unknown> {
  if (!(err instanceof PlanError)) return err
  const pg = pgErrorOf(err)
  if (pg.constraint === 'journal_entries_reverses_key') return alreadyReversed()
  if (pg.code === 'LL404') return notFound('Entry')
  if (pg.code === 'LL100') {
    // The plan waited on the original's lock for a reversal that then emptied the wallet: that one won.
    const now = await loadEntry(database, programId, entryId)
    if (now?.reversedByEntryId) return alreadyReversed()
    return insufficientFunds(/insufficient_funds:(\S+)/.exec(err.message)?.[1] ?? POINTS)
  }
  return err
}
