import { z } from 'zod'

export const walletSchema = z.object({
  balance: z.number().int(),
  available: z.number().int(),
  pending: z.number().int(),
})

export const balancesSchema = z
  .object({
    memberId: z.uuid(),
    points: walletSchema.describe('Points are whole numbers'),
    storedValue: z.object({
      currency: z.string(),
      balance: z.string().describe('Decimal string in major units'),
      available: z.string(),
      pending: z.string(),
    }),
  })
  .meta({ id: 'Balances' })

export const memberBalancesSchema = balancesSchema
  .extend({
    pointsExpiring: z
      .array(z.object({ expiresAt: z.string().describe('Usable until this instant'), points: z.number().int() }))
      .describe('Points that expire within the next 30 days, soonest first'),
    giftCards: z
      .array(z.object({ id: z.uuid(), codeLast4: z.string(), currency: z.string(), balance: z.string().describe('Decimal string in major units') }))
      .describe('Gift cards attached to the member, oldest first: each keeps its own wallet, apart from storedValue'),
  })
  .meta({ id: 'MemberBalances' })

export const activityItemSchema = z
  .object({
    entryId: z.uuid(),
    kind: z.string(),
    occurredAt: z.string().describe('Effective time of the entry'),
    recordedAt: z.string(),
    reason: z.string().nullable(),
    reference: z.object({ type: z.string(), id: z.string() }).nullable(),
    reversesEntryId: z.uuid().nullable(),
    points: z.number().int().nullable().describe('Change of the points balance; null when untouched'),
    pointsBalanceAfter: z.number().int().nullable(),
    storedValue: z.string().nullable().describe('Change of the stored-value balance; null when untouched'),
    storedValueBalanceAfter: z.string().nullable(),
  })
  .meta({ id: 'ActivityItem' })

export const postingSchema = z.object({
  seq: z.number().int(),
  accountId: z.uuid(),
  accountCode: z.string(),
  accountType: z.string(),
  asset: z.string(),
  memberId: z.uuid().nullable(),
  storeId: z.string().nullable(),
  amount: z.string().describe('Signed, major units (points: whole numbers); credit positive'),
  debit: z.string().nullable(),
  credit: z.string().nullable(),
  balanceAfter: z.string().nullable(),
})

export const entrySchema = z
  .object({
    id: z.uuid(),
    kind: z.string(),
    effectiveAt: z.string(),
    createdAt: z.string(),
    memberId: z.uuid().nullable(),
    storeId: z.string().nullable(),
    reason: z.string().nullable(),
    reference: z.object({ type: z.string(), id: z.string() }).nullable(),
    reversesEntryId: z.uuid().nullable(),
    reversedByEntryId: z.uuid().nullable(),
    createdBy: z.string(),
    postings: z.array(postingSchema),
  })
  .meta({ id: 'JournalEntry' })

export const adjustmentBodySchema = z
  .object({
    points: z
      .number()
      .int()
      .refine((n) => n !== 0, 'must not be zero')
      .refine((n) => Math.abs(n) <= 1_000_000_000, 'at most 1,000,000,000 points at once')
      .describe('Signed: positive grants, negative takes away'),
    reason: z.string().trim().min(3).max(500),
  })
  .strict()

export const adjustmentResultSchema = z.object({ entry: entrySchema, balances: balancesSchema }).meta({ id: 'PointsAdjustment' })

export const reversalBodySchema = z
  .object({
    reason: z.string().trim().min(3).max(500),
    allowNegativeBalance: z.boolean().default(false).describe('Let a member wallet go below zero when the reversed credit was already spent'),
  })
  .strict()

export const verifySchema = z
  .object({
    ok: z.boolean(),
    checkedAt: z.string(),
    entries: z.number().int(),
    postings: z.number().int(),
    accounts: z.number().int(),
    pendingHolds: z.number().int(),
    assets: z.array(z.object({ asset: z.string(), total: z.string() })),
    discrepancies: z.array(z.object({ check: z.string(), detail: z.string() })),
  })
  .meta({ id: 'LedgerVerification' })
