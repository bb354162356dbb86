// POST /v1/purchases/batch: a till back online uploads its offline queue in one request. Each sale
// is read on its own (a malformed one refuses only itself) and posted in the order uploaded, each
// in its own transaction through postPurchase, exactly as POST /v1/purchases posts it.
import type { FastifySchemaCompiler } from 'fastify'
import { validatorCompiler } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problemOf, toAppError } from '../../plugins/errors.js'
import { AppError, invalidFields } from '../../shared/errors.js'
import { problemSchema } from '../../shared/schemas.js'
import { unstorableTextIn } from '../../shared/text.js'
import { storedBody } from '../idempotency/reply.js'
import { idempotencyKeySchema, type StoredResponse } from '../idempotency/service.js'
import { purchaseCreateSchema, purchaseResultSchema, type PurchaseCreate } from './schemas.js'
import { laneKeys, lanesOf } from './batch-lanes.js'

export const MAX_BATCH_SALES = 500

const saleKeySchema = idempotencyKeySchema.describe('The sale’s own Idempotency-Key (same rules): a retried batch replays the sales it already posted')

/** A sale of a batch: a POST /v1/purchases body and its idempotency key. */
export const purchaseBatchItemSchema = purchaseCreateSchema
  .safeExtend({ idempotencyKey: saleKeySchema })
  .meta({ id: 'PurchaseBatchItem', description: 'A POST /v1/purchases body with its idempotency key' })

/** The body as documented: the sales' schema is in the OpenAPI document. */
export const purchaseBatchSchema = z
  .object({ purchases: z.array(purchaseBatchItemSchema).min(1).max(MAX_BATCH_SALES).describe('The offline queue, oldest first: posted in this order') })
  .strict()

/**
 * The body as validated before the handler: the envelope only. Validating the sales there would
 * refuse 499 good sales for one malformed one; readBatchSale reads each instead.
 */
export const purchaseBatchEnvelopeSchema = z.object({ purchases: z.array(z.unknown()).min(1).max(MAX_BATCH_SALES) }).strict()

export const purchaseBatchResultSchema = z
  .object({
    results: z.array(
      z.object({
        index: z.number().int().describe('The sale’s position in `purchases`, from 0'),
        idempotencyKey: z.string().nullable().describe('The sale’s key; null when it was missing or invalid'),
        status: z.number().int().describe('What POST /v1/purchases would answer for the sale: 201, its 4xx, or a 5xx (see the operation)'),
        replayed: z.boolean().describe('The answer stored under the key, given again: nothing was written'),
        body: z.union([purchaseResultSchema, problemSchema.loose()]).describe('The purchase (201) or the problem document, as POST /v1/purchases answers'),
      }),
    ),
  })
  .meta({ id: 'PurchaseBatchResult' })

export type BatchResult = z.output<typeof purchaseBatchResultSchema>['results'][number]

/** A stored body is what postPurchase answered: the purchase, or a problem document. */
const resultBody = (stored: StoredResponse, requestId: string) => storedBody(stored, requestId) as BatchResult['body']

/**
 * The route's validator compiler: the envelope for the body, the route's own schema for the rest.
 * (fastify types a route's compiler with the whole route schema; it is called with each part's.)
 */
export const batchValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, ...part }) =>
  validatorCompiler({ ...part, schema: part.httpPart === 'body' ? purchaseBatchEnvelopeSchema : schema })

export type BatchSale = { key: string; sale: PurchaseCreate } | { key: string | null; refusal: AppError }

/** The sale's idempotency key, when it has a valid one. */
function keyOf(raw: unknown): string | null {
  const given = raw !== null && typeof raw === 'object' ? (raw as { idempotencyKey?: unknown }).idempotencyKey : undefined
  return idempotencyKeySchema.safeParse(given).success ? (given as string) : null
}

/** The sale's body path as POST /v1/purchases names it: `body/lines/0/sku` is this sale's `lines[0].sku`. */
const bodyPath = (path: readonly PropertyKey[]) => (path.length === 0 ? 'body' : `body/${path.map(String).join('/')}`)

/**
 * Reads one uploaded sale as POST /v1/purchases reads its request: refused text first (the
 * text-input hook's check, here per sale), then the schema, error paths relative to the sale.
 */
export function readBatchSale(raw: unknown): BatchSale {
  const key = keyOf(raw)
  const text = unstorableTextIn(raw, 'body')
  if (text.length > 0) return { key, refusal: invalidFields(text) }
  const parsed = purchaseBatchItemSchema.safeParse(raw)
  if (!parsed.success) return { key, refusal: invalidFields(parsed.error.issues.map((i) => ({ path: bodyPath(i.path), message: i.message }))) }
  const { idempotencyKey, ...sale } = parsed.data
  return { key: idempotencyKey, sale }
}

/** A refusal or failure of a sale as its result: the problem document POST /v1/purchases would send. */
export function problemResult(index: number, key: string | null, error: AppError, requestId: string): BatchResult {
  return { index, idempotencyKey: key, status: error.status, replayed: false, body: { ...problemOf(error), requestId } }
}

/** Sales after one that failed for the service's sake: not tried, so that the retried batch posts them in order. */
export const notAttempted = (failed: number) =>
  new AppError(503, 'NOT_ATTEMPTED', 'Not attempted', `Sale ${failed} of the batch failed on the service's side, so this one was not attempted; retry the batch: sales already posted are replayed`)

/** Whether the batch goes on after a sale's error: a refusal (4xx) is that sale's answer; a 5xx stops it. */
export const continuesAfter = (error: AppError) => error.status < 500

export interface BatchOutcome {
  results: BatchResult[]
  /** The sale whose 5xx stopped the batch, and the error (for the log). */
  stopped?: { index: number; error: unknown }
}

export type PostSale = (key: string, sale: PurchaseCreate) => Promise<StoredResponse>

/** Lanes posted at once: enough to fill the executor's groups, few enough to bound a batch's share of the service. */
export const BATCH_LANES_AT_ONCE = 32

/**
 * Posts the sales of each lane (batch-lanes.ts) one after the other, in upload order, and lanes at
 * the same time. A sale refused gets its problem and its lane goes on; a sale that fails for the
 * service's sake (database lost, deadline) stops the batch: no sale not yet started is attempted
 * (NOT_ATTEMPTED), while sales already in flight finish and keep their answers.
 */
export async function postBatch(uploaded: readonly unknown[], post: PostSale, requestId: string): Promise<BatchOutcome> {
  const results: BatchResult[] = new Array(uploaded.length)
  const sales = new Map<number, { key: string; sale: PurchaseCreate }>()
  for (const [index, raw] of uploaded.entries()) {
    const read = readBatchSale(raw)
    if ('refusal' in read) results[index] = problemResult(index, read.key, read.refusal, requestId)
    else sales.set(index, read)
  }
  const lanes = lanesOf([...sales].map(([index, s]) => ({ index, keys: laneKeys(s.sale, s.key) })))
  let stopped: BatchOutcome['stopped']
  const runLane = async (lane: number[]) => {
    for (const index of lane) {
      const { key, sale } = sales.get(index)!
      if (stopped) {
        results[index] = problemResult(index, key, notAttempted(stopped.index), requestId)
        continue
      }
      try {
        const stored = await post(key, sale)
        results[index] = { index, idempotencyKey: key, status: stored.status, replayed: stored.replayed, body: resultBody(stored, requestId) }
      } catch (err) {
        const error = toAppError(err instanceof Error ? err : new Error(String(err)))
        results[index] = problemResult(index, key, error, requestId)
        if (!continuesAfter(error) && !stopped) stopped = { index, error: err }
      }
    }
  }
  let next = 0
  const worker = async () => {
    while (next < lanes.length) await runLane(lanes[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(BATCH_LANES_AT_ONCE, lanes.length) }, worker))
  return stopped ? { results, stopped } : { results }
}
