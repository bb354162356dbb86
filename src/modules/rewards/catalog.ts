// The program's catalog of rewards (program:manage): created, read, listed and changed. What a
// reward gives is fixed at creation, like its price: a redemption's plan priced it as loaded.
import { and, asc, eq, gt, sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/client.js'
import { AppError, invalidFields, pgErrorOf, type FieldProblem } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { campaignErrors } from '../coupons/errors.js'
import { couponCampaigns } from '../coupons/tables.js'
import { rewardErrors } from './errors.js'
import type { RewardCreate, RewardUpdate } from './schemas.js'
import { rewards, type RewardRow } from './tables.js'

/** The campaign a coupon reward names, as the create checks it. */
export interface CampaignState {
  status: string
  codeMode: string
  ended: boolean
}

/** Pure: why a campaign cannot issue a reward's coupons (404 unknown, 422 otherwise), or undefined. */
export function campaignRefusal(campaign: CampaignState | undefined): AppError | undefined {
  if (!campaign) return campaignErrors.notFound()
  if (campaign.codeMode !== 'unique') return rewardErrors.campaignUnusable('shared')
  if (campaign.status !== 'active') return rewardErrors.campaignUnusable('archived')
  if (campaign.ended) return rewardErrors.campaignUnusable('ended')
  return undefined
}

const validityProblem = (validFrom: Date, validTo: Date | null): FieldProblem[] =>
  validTo && validTo <= validFrom ? [{ path: 'body/validTo', message: 'must be later than validFrom' }] : []

/** Pure: the request as a row, or 400 naming the bad fields. */
export function rewardRow(programId: string, input: RewardCreate, ctx: { id: string; now: Date; actor: string }): typeof rewards.$inferInsert {
  const validFrom = input.validFrom ? new Date(input.validFrom) : ctx.now
  const validTo = input.validTo ? new Date(input.validTo) : null
  const problems = validityProblem(validFrom, validTo)
  if (problems.length > 0) throw invalidFields(problems)
  const gives = input.gives
  return {
    programId,
    id: ctx.id,
    name: input.name,
    pointsPrice: BigInt(input.pointsPrice),
    stockLeft: input.stock === undefined || input.stock === null ? null : BigInt(input.stock),
    redemptions: 0n,
    validFrom,
    validTo,
    maxPerMember: input.maxPerMember ?? null,
    givesKind: gives.kind,
    campaignId: gives.kind === 'coupon' ? gives.campaignId : null,
    sku: gives.kind === 'item' ? gives.sku : null,
    itemDescription: gives.kind === 'item' ? (gives.description ?? null) : null,
    active: true,
    createdAt: ctx.now,
    createdBy: ctx.actor,
    updatedAt: ctx.now,
  }
}

/** Pure: the columns a PATCH changes, or 400 (nothing sent, or an end before the start once merged with the row). */
export function rewardChanges(row: Pick<RewardRow, 'validFrom' | 'validTo'>, input: RewardUpdate, now: Date): Partial<typeof rewards.$inferInsert> {
  if (Object.values(input).every((v) => v === undefined)) {
    throw invalidFields([{ path: 'body', message: 'at least one of name, stock, validFrom, validTo, active' }])
  }
  const validFrom = input.validFrom !== undefined ? new Date(input.validFrom) : row.validFrom
  const validTo = input.validTo !== undefined ? (input.validTo === null ? null : new Date(input.validTo)) : row.validTo
  const problems = validityProblem(validFrom, validTo)
  if (problems.length > 0) throw invalidFields(problems)
  return {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.stock !== undefined ? { stockLeft: input.stock === null ? null : BigInt(input.stock) } : {}),
    ...(input.validFrom !== undefined ? { validFrom } : {}),
    ...(input.validTo !== undefined ? { validTo } : {}),
    ...(input.active !== undefined ? { active: input.active } : {}),
    updatedAt: now,
  }
}

export async function findReward(ex: Executor, programId: string, rewardId: string): Promise<RewardRow | undefined> {
  const [row] = await ex
    .select()
    .from(rewards)
    .where(and(eq(rewards.programId, programId), eq(rewards.id, rewardId)))
  return row
}

async function rewardOrThrow(ex: Executor, programId: string, rewardId: string): Promise<RewardRow> {
  const row = await findReward(ex, programId, rewardId)
  if (!row) throw rewardErrors.notFound()
  return row
}

export function createRewardCatalog(database: Database) {
  const db = database.db
  return {
    /** In the caller's transaction (the idempotent one of the route). */
    async create(tx: Executor, programId: string, input: RewardCreate, actor: string): Promise<RewardRow> {
      const row = rewardRow(programId, input, { id: newId(), now: new Date(), actor })
      if (row.campaignId) {
        const [campaign] = await tx
          .select({ status: couponCampaigns.status, codeMode: couponCampaigns.codeMode, ended: sql<boolean>`${couponCampaigns.validTo} is not null and ${couponCampaigns.validTo} <= now()` })
          .from(couponCampaigns)
          .where(and(eq(couponCampaigns.programId, programId), eq(couponCampaigns.id, row.campaignId)))
        const refusal = campaignRefusal(campaign && { ...campaign, ended: Boolean(campaign.ended) })
        if (refusal) throw refusal
      }
      const [created] = await tx.insert(rewards).values(row).returning()
      return created!
    },

    get: (programId: string, rewardId: string) => rewardOrThrow(db, programId, rewardId),

    async list(programId: string, query: { active?: 'true' | 'false'; limit: number; cursor?: string }) {
      const after = decodeCursor(query.cursor, (k) => /^[0-9a-f-]{36}$/.test(k))
      const rows = await db
        .select()
        .from(rewards)
        .where(and(eq(rewards.programId, programId), query.active ? eq(rewards.active, query.active === 'true') : undefined, after ? gt(rewards.id, after) : undefined))
        .orderBy(asc(rewards.id))
        .limit(query.limit + 1)
      return page(rows, query.limit, (r) => r.id)
    },

    /** Only the fields sent change; a validity crossed by a concurrent change is refused by the row's CHECK (400). */
    async update(programId: string, rewardId: string, input: RewardUpdate): Promise<RewardRow> {
      const row = await rewardOrThrow(db, programId, rewardId)
      const set = rewardChanges(row, input, new Date())
      try {
        const [updated] = await db
          .update(rewards)
          .set(set)
          .where(and(eq(rewards.programId, programId), eq(rewards.id, rewardId)))
          .returning()
        return updated ?? rewardOrThrow(db, programId, rewardId)
      } catch (err) {
        if (pgErrorOf(err).constraint === 'rewards_validity_check') throw invalidFields([{ path: 'body/validTo', message: 'must be later than validFrom' }])
        throw err
      }
    },
  }
}
