import { z } from 'zod'
import { moneyText } from '../../shared/schemas.js'
import { balancesSchema } from '../ledger/schemas.js'
import { receiptLinkSchema } from '../receipts/links.js'

export const topUpSchema = z
  .object({
    amount: moneyText,
    tender: z.enum(['cash', 'card', 'bank_transfer', 'e_wallet', 'other']),
    storeId: z.string().trim().min(1).max(64),
    terminalId: z.string().trim().min(1).max(64).optional(),
    reference: z.string().trim().min(1).max(100).optional().describe('The POS or payment reference'),
  })
  .strict()

export type TopUpCreate = z.output<typeof topUpSchema>

export const topUpResultSchema = z
  .object({
    id: z.uuid().describe('The ledger entry of the top-up'),
    memberId: z.uuid(),
    amount: z.string(),
    tender: z.string(),
    storeId: z.string(),
    reference: z.string().nullable(),
    createdAt: z.string(),
    balances: balancesSchema,
    receipt: receiptLinkSchema,
  })
  .meta({ id: 'TopUp' })

export type TopUpResult = z.output<typeof topUpResultSchema>
