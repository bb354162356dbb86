// A chunk's decisions as one plan for the executor (src/db/apply.ts), pure: the members created
// (one set-based insert) and updated (each guarded by the version the load read), their consent
// events, the opening balances of the created ones (the set-based openings step), a result row
// for every row read, and the import's counts, guarded by the request running it and the rows it
// has read: two requests cannot both write an import, nor one chunk twice.
import type { PlanData, RowStep } from '../../db/apply.js'
import { rowJson } from '../../db/row-json.js'
import { newId } from '../../shared/ids.js'
import { openingsStep } from '../ledger/opening-step.js'
import { memberConsentEvents, members } from '../members/tables.js'
import type { ConsentChange, Decision, MemberChanges } from './decide.js'
import { memberImportRows } from './tables.js'
import { randomCode } from '../../shared/codes.js'

export interface ImportRun {
  id: string
  runner: string
  /** Rows the import has recorded before this chunk. */
  rowsRead: number
}

export interface ChunkCounts {
  rows: number
  created: number
  updated: number
  unchanged: number
  refused: number
  pointsOpened: bigint
  storedValueOpened: bigint
}

export const BALANCES_IGNORED = 'opening balances not posted: the member was already there'

export function countsOf(decisions: readonly Decision[]): ChunkCounts {
  const counts: ChunkCounts = { rows: decisions.length, created: 0, updated: 0, unchanged: 0, refused: 0, pointsOpened: 0n, storedValueOpened: 0n }
  for (const d of decisions) {
    counts[d.status] += 1
    if (d.status === 'created') {
      counts.pointsOpened += d.openingPoints
      counts.storedValueOpened += d.openingStoredValue
    }
  }
  return counts
}

const consentColumns = (consents: readonly ConsentChange[]) => {
  const sms = consents.find((c) => c.purpose === 'smsMarketing')
  const email = consents.find((c) => c.purpose === 'emailMarketing')
  return {
    smsMarketingConsent: sms?.granted ?? false,
    smsMarketingConsentAt: sms?.at ?? null,
    emailMarketingConsent: email?.granted ?? false,
    emailMarketingConsentAt: email?.at ?? null,
  }
}

/** Update values as the executor's jsonb_populate_record reads them: snake_case, timestamps as ISO text. */
function columnsOf(changes: MemberChanges, now: Date): Record<string, unknown> {
  const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
  const out: Record<string, unknown> = { updated_at: now.toISOString() }
  for (const [k, v] of Object.entries(changes)) out[snake(k)] = v instanceof Date ? v.toISOString() : v
  return out
}

/**
 * The plan of one chunk. `pointsExpireAt`: when opened points expire under the program's rules
 * (lotExpiry from now), unless the row says when; `actor`: the client importing, who records the entries and consents.
 */
export function planChunk(
  program: { id: string; currency: string },
  run: ImportRun,
  decisions: readonly Decision[],
  ctx: { now: Date; actor: string; pointsExpireAt: Date | null },
): { plan: PlanData; counts: ChunkCounts; systemAccountIds: string[] } {
  const now = ctx.now.toISOString()
  const created: Record<string, unknown>[] = []
  const consentRows: Record<string, unknown>[] = []
  const updates: RowStep[] = []
  const openings = []
  const consentRow = (memberId: string, c: ConsentChange) =>
    rowJson(memberConsentEvents, { programId: program.id, id: newId(), memberId, purpose: c.purpose, granted: c.granted, effectiveAt: c.at, recordedAt: ctx.now, recordedBy: ctx.actor })

  for (const d of decisions) {
    if (d.status === 'created') {
      const m = d.member
      created.push(
        rowJson(members, {
          programId: program.id,
          id: d.memberId,
          name: m.name,
          phone: m.phone,
          email: m.email ?? null,
          birthday: m.birthday ?? null,
          externalId: m.externalId ?? null,
          cardNumber: m.cardNumber ?? null,
          ...consentColumns(d.consents),
          doNotContact: m.doNotContact ?? false,
          createdAt: ctx.now,
          updatedAt: ctx.now,
          erasedAt: null,
          erasedBy: null,
          // 50 bits: a clash with a code in use refuses the chunk on its unique key, and it is planned again.
          referralCode: randomCode(),
          referredBy: null,
        }),
      )
      for (const c of d.consents) consentRows.push(consentRow(d.memberId, c))
      openings.push({ memberId: d.memberId, entryId: newId(), points: d.openingPoints, storedValue: d.openingStoredValue, pointsExpireAt: d.openingPointsExpireAt, referenceType: 'member_import', referenceId: run.id, metadata: { importId: run.id, row: d.row } })
    } else if (d.status === 'updated') {
      updates.push({ op: 'update', table: 'members', key: { id: d.memberId }, set: columnsOf(d.changes, ctx.now), expect: { updated_at: d.expectUpdatedAt } })
      for (const c of d.consents) consentRows.push(consentRow(d.memberId, c))
    }
  }

  const counts = countsOf(decisions)
  const results = decisions.map((d) =>
    rowJson(memberImportRows, {
      programId: program.id,
      importId: run.id,
      rowNumber: d.row,
      line: d.line,
      status: d.status,
      memberId: d.status === 'refused' ? null : d.memberId,
      code: d.status === 'refused' ? d.code : null,
      field: d.status === 'refused' ? d.field : null,
      message: d.status === 'refused' ? d.message : d.status !== 'created' && d.balancesIgnored ? BALANCES_IGNORED : null,
    }),
  )
  const { step, systemAccountIds } = openingsStep(program, openings, { now: ctx.now, actor: ctx.actor, pointsExpireAt: ctx.pointsExpireAt })
  const rows: RowStep[] = [
    ...(created.length > 0 ? [{ op: 'insert' as const, table: 'members', rows: created }] : []),
    ...updates,
    ...(consentRows.length > 0 ? [{ op: 'insert' as const, table: 'member_consent_events', rows: consentRows }] : []),
    ...(results.length > 0 ? [{ op: 'insert' as const, table: 'member_import_rows', rows: results }] : []),
    {
      op: 'update',
      table: 'member_imports',
      key: { id: run.id },
      set: { updated_at: now },
      add: {
        rows_read: String(counts.rows),
        created: String(counts.created),
        updated: String(counts.updated),
        unchanged: String(counts.unchanged),
        refused: String(counts.refused),
        points_opened: counts.pointsOpened.toString(),
        stored_value_opened: counts.storedValueOpened.toString(),
      },
      expect: { runner: run.runner, rows_read: run.rowsRead, status: 'running' },
    },
  ]
  return { plan: { program: program.id, ...(step.entries.length > 0 ? { openings: step } : {}), rows }, counts, systemAccountIds }
}
