import { z } from 'zod'
import { periodBoundSchema } from '../../shared/period.js'

const amount = z.string().describe('Decimal string in major units (points: whole numbers)')

export const journalQuerySchema = z
  .object({
    from: periodBoundSchema,
    to: periodBoundSchema,
    format: z.enum(['csv', 'ndjson']).default('csv'),
  })
  .strict()

export const trialBalanceQuerySchema = z
  .object({
    asOf: periodBoundSchema.optional().describe('Balances of entries effective before this instant (a date: the end of that day); default now'),
    format: z.enum(['json', 'csv']).default('json').describe('csv streams every account, for programs with very many member wallets'),
  })
  .strict()

export const liabilityQuerySchema = z.object({ from: periodBoundSchema, to: periodBoundSchema }).strict()

const accountBalanceSchema = z.object({
  accountId: z.uuid(),
  code: z.string(),
  type: z.string(),
  asset: z.string(),
  memberId: z.uuid().nullable(),
  storeId: z.string().nullable(),
  debit: amount.describe('The balance when it is a debit balance, else "0"'),
  credit: amount.describe('The balance when it is a credit balance, else "0"'),
  balance: amount.describe('Signed, credit positive'),
})

export const trialBalanceSchema = z
  .object({
    asOf: z.string(),
    accounts: z.array(accountBalanceSchema),
    byType: z
      .array(z.object({ asset: z.string(), type: z.string(), accounts: z.number().int(), debit: amount, credit: amount, balance: amount }))
      .describe('Accounts summed by type (all member wallets of a kind in one line)'),
    totals: z
      .array(z.object({ asset: z.string(), accounts: z.number().int(), debit: amount, credit: amount, balance: amount.describe('Always "0": the ledger balances per asset') }))
      .describe('Per asset: debit balances, credit balances and their net'),
  })
  .meta({ id: 'TrialBalance' })

const rollForwardFields = {
  opening: amount,
  imported: amount.describe('Signed: opening balances members brought from another system by a member import (opening_balance), apart from the program’s own activity'),
  issued: amount.describe('Credited to members from the issuing accounts: points earned or granted (points_issued), stored value loaded (tender_clearing)'),
  clawedBack: amount.describe('Taken back to the issuing accounts: earned points clawed back by returns, loads paid back'),
  redeemed: amount.describe('Spent: points paid as a tender (points_redeemed), stored value spent at a store (stored_value_settlement)'),
  refunded: amount.describe('Given back to members by returns of purchases paid with points or stored value'),
  expired: amount.describe('Expired to points_breakage'),
  adjusted: amount.describe('Signed: manual adjustments (points_adjustments, stored_value_adjustments)'),
  reversed: amount.describe('Signed: the effect of reversal entries on the liability'),
  other: amount.describe('Signed: movements against any other account type (none today)'),
  closing: amount.describe('opening + imported + issued - clawedBack - redeemed + refunded - expired + adjusted + reversed + other'),
}

const rollForwardSchema = z.object(rollForwardFields)

export const liabilitySchema = z
  .object({
    from: z.string(),
    to: z.string(),
    currency: z.string(),
    pointValue: z.string().nullable().describe('Money value of one point (program rules in force at `to`); null: points cannot pay'),
    assets: z.array(
      z.object({
        asset: z.string().describe('POINTS or the currency'),
        ...rollForwardFields,
        value: rollForwardSchema
          .nullable()
          .describe('POINTS only: every figure valued in the currency at pointValue; null when points have no value or the asset is money'),
        byStore: z
          .array(z.object({ storeId: z.string().nullable().describe('null: movements not made at a store (adjustments, expiry)'), ...rollForwardFields }))
          .describe('The same roll-forward per store where the movements happened; the rows add up to the asset'),
      }),
    ),
    giftCards: z
      .array(
        z.object({
          asset: z.string().describe('The currency'),
          ...rollForwardFields,
          byStore: z.array(z.object({ storeId: z.string().nullable(), ...rollForwardFields })).describe('Per store where the movements happened'),
        }),
      )
      .describe('What the program owes the holders of its gift cards (their own wallets, attached to a member or not), rolled forward the same way: issued are loads (gift_card_clearing), redeemed is spent at a store (gift_card_settlement), refunded is given back by returns. Not in `assets`, which are the members’ wallets'),
  })
  .meta({ id: 'LiabilityRollForward' })
