// A member's rewards read: what they can redeem now, and their redemptions.
import { and, desc, eq, lt } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { memberBalances } from '../ledger/reads.js'
import { findMember } from '../members/repository.js'
import { memberRewards, type MemberReward } from './available.js'
import { rewardErrors } from './errors.js'
import { memberCounts, rewardsWithCampaigns } from './redeem.js'
import { rewardRedemptions } from './tables.js'

/** The member's rewards now (404 for an unknown member); an erased member, who redeems nothing, has none. */
export async function listMemberRewards(ex: Executor, program: { id: string; currency: string }, memberId: string, all: boolean): Promise<{ pointsAvailable: bigint; rewards: MemberReward[] }> {
  const [member, balances, catalog, counts] = await Promise.all([
    findMember(ex, program.id, memberId),
    memberBalances(ex, program.id, memberId, program.currency),
    rewardsWithCampaigns(ex, program.id),
    memberCounts(ex, program.id, memberId),
  ])
  if (!member) throw rewardErrors.memberNotFound()
  const pointsAvailable = balances.points.available
  if (member.erasedAt) return { pointsAvailable, rewards: [] }
  return { pointsAvailable, rewards: memberRewards(catalog, counts, pointsAvailable, new Date(), { all }) }
}

/** The member's redemptions, newest first, paged by id. */
export async function listRedemptions(ex: Executor, programId: string, memberId: string, query: { status?: 'active' | 'cancelled'; limit: number; cursor?: string }) {
  const before = decodeCursor(query.cursor, (k) => /^[0-9a-f-]{36}$/.test(k))
  const [member, rows] = await Promise.all([
    findMember(ex, programId, memberId),
    ex
      .select()
      .from(rewardRedemptions)
      .where(
        and(
          eq(rewardRedemptions.programId, programId),
          eq(rewardRedemptions.memberId, memberId),
          query.status ? eq(rewardRedemptions.status, query.status) : undefined,
          before ? lt(rewardRedemptions.id, before) : undefined,
        ),
      )
      .orderBy(desc(rewardRedemptions.id))
      .limit(query.limit + 1),
  ])
  if (!member) throw rewardErrors.memberNotFound()
  return page(rows, query.limit, (r) => r.id)
}
