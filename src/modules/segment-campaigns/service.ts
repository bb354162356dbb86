// Creating a segment campaign (its members materialized in the same transaction) and the runs of
// this instance: a campaign starts running here once created, and POST .../runs (or the create
// request replayed with its key) starts it again after a crash or a failure.
import { and, eq, inArray } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Database, Executor } from '../../db/client.js'
import { newId } from '../../shared/ids.js'
import { issuingRefusal } from '../coupons/service.js'
import { couponCampaigns } from '../coupons/tables.js'
import { programs, type ProgramRow } from '../programs/tables.js'
import { segmentErrors } from '../saved-segments/errors.js'
import { filterProgramOf, findSegment } from '../saved-segments/repository.js'
import { insertCampaign, silentCampaigns } from './repository.js'
import { CLAIM_LEASE_MS, runCampaign, type RunOptions } from './run.js'
import type { CampaignCreate } from './schemas.js'
import type { SegmentCampaignRow } from './tables.js'

export async function createCampaign(tx: Executor, program: ProgramRow, segmentId: string, input: CampaignCreate, actor: string, now = new Date()): Promise<SegmentCampaignRow> {
  const segment = await findSegment(tx, program.id, segmentId)
  if (segment.status !== 'active') throw segmentErrors.archived()
  if (input.grant.kind === 'coupon') {
    const [coupon] = await tx
      .select()
      .from(couponCampaigns)
      .where(and(eq(couponCampaigns.programId, program.id), eq(couponCampaigns.id, input.grant.couponCampaignId)))
    const refusal = issuingRefusal(coupon && { status: coupon.status, code_mode: coupon.codeMode, ended: coupon.validTo !== null && coupon.validTo <= now })
    if (refusal) throw refusal
  }
  return insertCampaign(
    tx,
    filterProgramOf(program),
    {
      programId: program.id,
      id: newId(),
      segmentId,
      name: input.name,
      grantKind: input.grant.kind,
      points: input.grant.kind === 'points' ? BigInt(input.grant.points) : null,
      couponCampaignId: input.grant.kind === 'coupon' ? input.grant.couponCampaignId : null,
      filter: segment.filter,
      asOf: now,
      status: 'running',
      createdBy: actor,
      createdAt: now,
    },
    segment.filter,
    now,
  )
}

/** The campaign runs of this instance, at most one per campaign; closing the app stops them between batches and waits. */
export class CampaignRuns {
  private readonly running = new Map<string, Promise<void>>()
  private stopping = false

  constructor(
    private readonly database: Database,
    private readonly log: FastifyBaseLogger,
    private readonly options: RunOptions = {},
  ) {}

  /** Starts a run of the campaign here unless one is going; true when it started. */
  start(program: ProgramRow, campaignId: string): boolean {
    if (this.stopping || this.running.has(campaignId)) return false
    const run = runCampaign(this.database, program, campaignId, { ...this.options, log: this.log, shouldStop: () => this.stopping })
      .then(() => undefined)
      .catch((err: unknown) => this.log.error({ err, campaignId }, 'segment campaign run stopped on an error'))
      .finally(() => this.running.delete(campaignId))
    this.running.set(campaignId, run)
    return true
  }

  /** Resolves when the run of this campaign here (if any) has ended. */
  async settled(campaignId: string): Promise<void> {
    await this.running.get(campaignId)
  }

  async close(): Promise<void> {
    this.stopping = true
    await Promise.all(this.running.values())
  }
}

/**
 * The scheduler's sweep: starts here a run of each running campaign whose runner has been silent
 * for longer than a claim's lease (CLAIM_LEASE_MS, at `now`), so a campaign whose instance died
 * finishes without anyone asking. Starting one that is in fact alive elsewhere is harmless: claims
 * keep the runs apart and the grant key makes each grant once. Returns how many runs it started
 * (the runs go on after it returns).
 */
export async function resumeSilentCampaigns(database: Database, log: FastifyBaseLogger, now: Date, programIds?: string[]): Promise<number> {
  const silent = await silentCampaigns(database.db, new Date(now.getTime() - CLAIM_LEASE_MS), programIds)
  if (silent.length === 0) return 0
  const rows = await database.db
    .select()
    .from(programs)
    .where(inArray(programs.id, [...new Set(silent.map((c) => c.programId))]))
  const byId = new Map(rows.map((p) => [p.id, p]))
  const runs = campaignRunsOf(database, log)
  let started = 0
  for (const campaign of silent) {
    const program = byId.get(campaign.programId)
    if (program && runs.start(program, campaign.id)) started += 1
  }
  if (started > 0) log.info({ started }, 'silent segment campaigns resumed')
  return started
}

const runsByDatabase = new WeakMap<Database, CampaignRuns>()

/** The campaign runs on this database in this process (the app makes them; tests wait on them). */
export function campaignRunsOf(database: Database, log?: FastifyBaseLogger): CampaignRuns {
  let runs = runsByDatabase.get(database)
  if (!runs) {
    if (!log) throw new Error('no campaign runs on this database yet')
    runs = new CampaignRuns(database, log)
    runsByDatabase.set(database, runs)
  }
  return runs
}
