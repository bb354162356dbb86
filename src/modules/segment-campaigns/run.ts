// A segment campaign's run: batches of members claimed, loaded, planned (./plan.ts) and applied,
// a few batches in flight, until every member has its grant row. Any number of runs of one
// campaign may go at once (two instances, a restart while the first still runs): their claims keep
// them apart, and a member granted by one fails the other's plan on the grant row's key, which is
// then planned again without that member. A run that stops (a crash, a shutdown, `maxBatches`)
// leaves every batch it applied done; the next run takes the rest.
import { and, eq } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import pino from 'pino'
import { PlanError, STALE } from '../../db/apply.js'
import type { Database } from '../../db/client.js'
import { AppError } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { issuingRefusal } from '../coupons/service.js'
import { couponCampaigns } from '../coupons/tables.js'
import { nudgeDispatchers } from '../events/signal.js'
import { rememberAccounts } from '../ledger/repository.js'
import { readRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { ALREADY_GRANTED, campaignBatchPlan, CODE_TAKEN, type BatchCounts, type CampaignGrant } from './plan.js'
import { analyzeCampaignTables, claimMembers, completeIfDone, findCampaign, grantedAmong, heartbeat, loadMemberStates, markFailed, markRunning } from './repository.js'
import type { SegmentCampaignRow } from './tables.js'

export const BATCH_SIZE = 250
export const BATCHES_IN_FLIGHT = 3
/** A claim not granted within this long is free again (its runner died). */
export const CLAIM_LEASE_MS = 60_000
/** The tables it grows are analyzed after this many grants of a run, and each time that doubles (analyzeCampaignTables). */
const ANALYZE_FIRST = 500
const NIL = '00000000-0000-0000-0000-000000000000'
const ACTOR = 'segment-campaign'

export interface RunOptions {
  /** Who runs it (claims name it); default a new id. */
  runner?: string
  batchSize?: number
  batchesInFlight?: number
  leaseMs?: number
  /** Stop after this many batches (a run cut off halfway, in tests). */
  maxBatches?: number
  /** Checked between batches: true stops the run (shutdown). */
  shouldStop?: () => boolean
  log?: FastifyBaseLogger
}

export interface RunOutcome {
  /** completed: every member granted. stopped: cut off (maxBatches, shutdown). others: members left are claimed by another live run. */
  status: 'completed' | 'stopped' | 'others'
  batches: number
  counts: BatchCounts
}

const silent = pino({ level: 'silent' }) as unknown as FastifyBaseLogger

/** The campaign's grant as plans take it, or why its coupon campaign can no longer issue codes. */
async function grantOf(database: Database, campaign: SegmentCampaignRow): Promise<CampaignGrant> {
  if (campaign.grantKind === 'points') return { id: campaign.id, name: campaign.name, grant: { kind: 'points', points: campaign.points! } }
  const [coupon] = await database.db
    .select()
    .from(couponCampaigns)
    .where(and(eq(couponCampaigns.programId, campaign.programId), eq(couponCampaigns.id, campaign.couponCampaignId!)))
  const refusal = issuingRefusal(coupon && { status: coupon.status, code_mode: coupon.codeMode, ended: coupon.validTo !== null && coupon.validTo <= new Date() })
  if (refusal) throw refusal
  return { id: campaign.id, name: campaign.name, grant: { kind: 'coupon', campaignId: coupon!.id, maxUsesPerCode: coupon!.maxUsesPerCode } }
}

export async function runCampaign(database: Database, program: ProgramRow, campaignId: string, options: RunOptions = {}): Promise<RunOutcome> {
  const runner = options.runner ?? newId()
  const log = (options.log ?? silent).child({ campaignId, runner })
  const counts: BatchCounts = { granted: 0, skipped: 0, points: 0n, coupons: 0, queued: 0, suppressed: 0 }
  const campaign = await findCampaign(database.db, program.id, campaignId)
  if (!campaign) throw new Error(`segment campaign ${campaignId} not found`)
  if (!(await markRunning(database.db, program.id, campaignId, runner))) return { status: 'completed', batches: 0, counts }
  const size = options.batchSize ?? BATCH_SIZE
  const lease = options.leaseMs ?? CLAIM_LEASE_MS
  let batches = 0
  let cursor = NIL
  let stopped = false
  let analyzeAt = ANALYZE_FIRST
  const started = Date.now()
  try {
    const grant = await grantOf(database, campaign)
    const rules = readRules(program.rules)
    const worker = async () => {
      let from = cursor
      for (;;) {
        if (options.shouldStop?.() || (options.maxBatches !== undefined && batches >= options.maxBatches)) {
          stopped = true
          return
        }
        batches++
        const claimed = await claimMembers(database.db, program.id, campaignId, runner, from, size, lease)
        if (claimed.length === 0) {
          batches--
          // The end of the members: once more from the start, for claims that expired meanwhile.
          if (from === NIL) return
          from = NIL
          continue
        }
        const last = claimed[claimed.length - 1]!
        if (last > cursor) cursor = last
        from = cursor
        add(counts, await grantBatch(database, program, rules, grant, claimed))
        await heartbeat(database.db, program.id, campaignId, runner)
        if (counts.granted + counts.skipped >= analyzeAt) {
          analyzeAt *= 2
          await analyzeCampaignTables(database.db)
        }
      }
    }
    await Promise.all(Array.from({ length: options.batchesInFlight ?? BATCHES_IN_FLIGHT }, worker))
  } catch (err) {
    const message = err instanceof AppError ? err.message : `The run failed (${err instanceof Error ? err.name : 'error'}); the service log has the details under runner ${runner}`
    await markFailed(database.db, program.id, campaignId, runner, message).catch(() => undefined)
    log.error({ err }, 'segment campaign run failed')
    throw err
  }
  const status = stopped ? 'stopped' : (await completeIfDone(database.db, program.id, campaignId)) ? 'completed' : 'others'
  log.info({ status, batches, granted: counts.granted, ms: Date.now() - started }, 'segment campaign ran')
  return { status, batches, counts }
}

/** One batch: load -> plan -> apply, again without the members another run granted meanwhile, or with other codes. */
async function grantBatch(database: Database, program: ProgramRow, rules: ReturnType<typeof readRules>, grant: CampaignGrant, memberIds: string[]): Promise<BatchCounts> {
  let left = memberIds
  for (let attempt = 1; ; attempt++) {
    const members = await loadMemberStates(database.db, program.id, left)
    const plan = campaignBatchPlan(program, rules, grant, members, { now: new Date(), actor: `${ACTOR}:${grant.id}` })
    try {
      await database.apply(plan.data)
      rememberAccounts(program.id, plan.accountIds)
      if (plan.counts.queued > 0) nudgeDispatchers()
      return plan.counts
    } catch (err) {
      if (!(err instanceof PlanError) || attempt >= 5) throw err
      if (err.constraint_name === ALREADY_GRANTED) {
        const granted = await grantedAmong(database.db, program.id, grant.id, left)
        left = left.filter((m) => !granted.has(m))
        if (left.length === 0) return { granted: 0, skipped: 0, points: 0n, coupons: 0, queued: 0, suppressed: 0 }
      } else if (err.constraint_name !== CODE_TAKEN && err.code !== STALE) {
        throw err
      }
    }
  }
}

export function add(total: BatchCounts, batch: BatchCounts): void {
  total.granted += batch.granted
  total.skipped += batch.skipped
  total.points += batch.points
  total.coupons += batch.coupons
  total.queued += batch.queued
  total.suppressed += batch.suppressed
}
