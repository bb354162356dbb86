import { and, desc, eq, lt, type SQL } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { Executor } from '../../db/client.js'
import { receipts, type ReceiptRow } from './tables.js'

export interface StoredReceipt extends ReceiptRow {
  originalNumber: string | null
}

const original = alias(receipts, 'original')

function select(ex: Executor, where: SQL | undefined) {
  return ex
    .select({ receipt: receipts, originalNumber: original.number })
    .from(receipts)
    .leftJoin(original, and(eq(original.programId, receipts.programId), eq(original.id, receipts.originalReceiptId)))
    .where(where)
}

const flatten = (rows: { receipt: ReceiptRow; originalNumber: string | null }[]): StoredReceipt[] => rows.map((r) => ({ ...r.receipt, originalNumber: r.originalNumber }))

export async function findReceipt(ex: Executor, programId: string, receiptId: string): Promise<StoredReceipt | undefined> {
  return flatten(await select(ex, and(eq(receipts.programId, programId), eq(receipts.id, receiptId))))[0]
}

/** By the public link's token alone: the token is the only credential of /r/{token}. */
export async function findReceiptByToken(ex: Executor, token: string): Promise<StoredReceipt | undefined> {
  return flatten(await select(ex, eq(receipts.publicToken, token)).limit(1))[0]
}

export async function listReceipts(ex: Executor, programId: string, filter: { purchaseId?: string; memberId?: string }, limit: number, beforeId?: string): Promise<StoredReceipt[]> {
  const where = and(
    eq(receipts.programId, programId),
    filter.purchaseId ? eq(receipts.purchaseId, filter.purchaseId) : undefined,
    filter.memberId ? eq(receipts.memberId, filter.memberId) : undefined,
    beforeId ? lt(receipts.id, beforeId) : undefined,
  )
  return flatten(await select(ex, where).orderBy(desc(receipts.id)).limit(limit + 1))
}
