// Managing coupon campaigns and their codes (program:manage), and looking a code up (also pos).
import { and, asc, eq, gt } from 'drizzle-orm'
import type { Database, Executor } from '../../db/client.js'
import { AppError, pgErrorOf, validationFailed, type FieldProblem } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { currencyExponent, formatMinorUnits, readAmount } from '../../shared/money.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { isoTimestamp } from '../../shared/schemas.js'
import type { ProgramRow } from '../programs/tables.js'
import { normalizeCode, SHARED_CODE } from './codes.js'
import type { CampaignCreate } from './schemas.js'
import { campaignErrors } from './errors.js'
import { issueCodes } from './service.js'
import { couponCampaigns, couponMemberUses, coupons, type CouponCampaignRow, type CouponRow } from './tables.js'

const PERCENT = /^(100|[1-9]?[0-9])(\.[0-9]{1,2})?$/

const exponentOf = (program: ProgramRow) => currencyExponent(program.currency) ?? 0

export function campaignView(program: ProgramRow, c: CouponCampaignRow) {
  const exp = exponentOf(program)
  const money = (v: bigint) => formatMinorUnits(v, exp)
  return {
    id: c.id,
    name: c.name,
    kind: c.kind as 'percent' | 'fixed',
    value: c.kind === 'percent' ? c.percentOff! : money(c.amountOff!),
    minSpend: money(c.minSpend),
    validFrom: isoTimestamp(c.validFrom),
    validTo: c.validTo ? isoTimestamp(c.validTo) : null,
    maxUsesPerCode: c.maxUsesPerCode,
    maxUsesPerMember: c.maxUsesPerMember,
    budget: c.budget === null ? null : money(c.budget),
    budgetUsed: money(c.budgetUsed),
    budgetLeft: c.budget === null ? null : money(c.budget - c.budgetUsed),
    redemptions: Number(c.redemptions),
    codeMode: c.codeMode as 'shared' | 'unique',
    sharedCode: c.sharedCode,
    status: c.status as 'active' | 'archived',
    createdAt: isoTimestamp(c.createdAt),
    archivedAt: c.archivedAt ? isoTimestamp(c.archivedAt) : null,
  }
}

export function codeView(c: CouponRow) {
  return { code: c.code, campaignId: c.campaignId, memberId: c.memberId, uses: c.uses, maxUses: c.maxUses, issuedAt: isoTimestamp(c.issuedAt), reason: c.reason }
}

/** The request as a row, or 400 naming every bad field (amounts are checked against the program currency). */
function campaignRow(program: ProgramRow, input: CampaignCreate, actor: string, now: Date): typeof couponCampaigns.$inferInsert {
  const exp = exponentOf(program)
  const problems: FieldProblem[] = []
  const money = (text: string, path: string, positive: boolean): bigint => {
    const read = readAmount(text, exp, program.currency, { positive })
    if ('problem' in read) {
      problems.push({ path, message: read.problem })
      return 0n
    }
    return read.value
  }
  let percentOff: string | null = null
  let amountOff: bigint | null = null
  if (input.kind === 'percent') {
    if (!PERCENT.test(input.value) || Number(input.value) <= 0 || Number(input.value) > 100) problems.push({ path: 'body/value', message: 'a percentage above 0 and at most 100, up to 2 decimals' })
    else percentOff = input.value
  } else {
    amountOff = money(input.value, 'body/value', true)
  }
  const minSpend = input.minSpend === undefined ? 0n : money(input.minSpend, 'body/minSpend', false)
  const budget = input.budget === undefined || input.budget === null ? null : money(input.budget, 'body/budget', true)
  const validFrom = input.validFrom ? new Date(input.validFrom) : now
  const validTo = input.validTo ? new Date(input.validTo) : null
  if (validTo && validTo <= validFrom) problems.push({ path: 'body/validTo', message: 'must be later than validFrom' })
  const sharedCode = input.sharedCode === undefined ? null : normalizeCode(input.sharedCode)
  if (input.codeMode === 'shared' && sharedCode === null) problems.push({ path: 'body/sharedCode', message: 'a shared campaign needs its code' })
  if (input.codeMode === 'unique' && sharedCode !== null) problems.push({ path: 'body/sharedCode', message: 'only a shared campaign has a shared code' })
  if (sharedCode !== null && !SHARED_CODE.test(sharedCode)) problems.push({ path: 'body/sharedCode', message: 'letters, digits, - and _ (3 to 32), starting with a letter or digit' })
  if (problems.length > 0) throw validationFailed(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems)
  return {
    programId: program.id,
    id: newId(),
    name: input.name,
    kind: input.kind,
    percentOff,
    amountOff,
    minSpend,
    validFrom,
    validTo,
    maxUsesPerCode: input.maxUsesPerCode ?? null,
    maxUsesPerMember: input.maxUsesPerMember ?? null,
    budget,
    codeMode: input.codeMode,
    sharedCode,
    status: 'active',
    createdAt: now,
    createdBy: actor,
  }
}

const codeTaken = (code: string) => new AppError(409, 'COUPON_CODE_TAKEN', 'Code taken', `Code ${code} is already a coupon of this program`, { couponCode: code })

async function findCampaign(ex: Executor, programId: string, campaignId: string): Promise<CouponCampaignRow> {
  const [row] = await ex
    .select()
    .from(couponCampaigns)
    .where(and(eq(couponCampaigns.programId, programId), eq(couponCampaigns.id, campaignId)))
  if (!row) throw campaignErrors.notFound()
  return row
}

export function createCouponCampaigns(database: Database) {
  const db = database.db
  return {
    /**
     * A campaign, and for a shared one its code, in the caller's transaction (the idempotent one of
     * the route); a shared code already taken rolls it back and `createdError` makes it 409 COUPON_CODE_TAKEN.
     */
    async create(tx: Executor, program: ProgramRow, input: CampaignCreate, actor: string): Promise<CouponCampaignRow> {
      const row = campaignRow(program, input, actor, new Date())
      const [created] = await tx.insert(couponCampaigns).values(row).returning()
      if (row.sharedCode) {
        await tx.insert(coupons).values({ programId: program.id, code: row.sharedCode, campaignId: row.id, maxUses: row.maxUsesPerCode, issuedBy: actor, reason: 'shared code' })
      }
      return created!
    },

    createdError: (input: CampaignCreate) => (err: unknown) => (pgErrorOf(err).constraint === 'coupons_pkey' && input.sharedCode !== undefined ? codeTaken(normalizeCode(input.sharedCode)) : err),

    get: (program: ProgramRow, campaignId: string) => findCampaign(db, program.id, campaignId),

    async list(program: ProgramRow, query: { status?: 'active' | 'archived'; limit: number; cursor?: string }) {
      const after = decodeCursor(query.cursor, (k) => /^[0-9a-f-]{36}$/.test(k))
      const rows = await db
        .select()
        .from(couponCampaigns)
        .where(
          and(
            eq(couponCampaigns.programId, program.id),
            query.status ? eq(couponCampaigns.status, query.status) : undefined,
            after ? gt(couponCampaigns.id, after) : undefined,
          ),
        )
        .orderBy(asc(couponCampaigns.id))
        .limit(query.limit + 1)
      return page(rows, query.limit, (c) => c.id)
    },

    /** No code of an archived campaign is accepted any more; redemptions already made stay (a return still releases them). Archiving twice is not an error. */
    async archive(program: ProgramRow, campaignId: string): Promise<CouponCampaignRow> {
      const [row] = await db
        .update(couponCampaigns)
        .set({ status: 'archived', archivedAt: new Date() })
        .where(and(eq(couponCampaigns.programId, program.id), eq(couponCampaigns.id, campaignId), eq(couponCampaigns.status, 'active')))
        .returning()
      return row ?? findCampaign(db, program.id, campaignId)
    },

    /** In the caller's transaction: the idempotent one of the route, so a retry does not issue the codes again. */
    generateCodes: (tx: Executor, program: ProgramRow, campaignId: string, input: { count: number; memberId?: string; reason?: string }, actor: string) =>
      issueCodes(tx, program.id, campaignId, { ...input, actor }),

    async listCodes(program: ProgramRow, campaignId: string, query: { limit: number; cursor?: string }) {
      await findCampaign(db, program.id, campaignId)
      const after = decodeCursor(query.cursor, (k) => /^[A-Z0-9_-]{1,64}$/.test(k))
      const rows = await db
        .select()
        .from(coupons)
        .where(and(eq(coupons.programId, program.id), eq(coupons.campaignId, campaignId), after ? gt(coupons.code, after) : undefined))
        .orderBy(asc(coupons.code))
        .limit(query.limit + 1)
      return page(rows, query.limit, (c) => c.code)
    },

    /** A code, its campaign and whether a purchase could use it now; 404 for an unknown code. */
    async lookup(program: ProgramRow, codeText: string, memberId: string | undefined) {
      const code = normalizeCode(codeText)
      const [coupon] = await db
        .select()
        .from(coupons)
        .where(and(eq(coupons.programId, program.id), eq(coupons.code, code)))
      if (!coupon) throw new AppError(404, 'COUPON_NOT_FOUND', 'Coupon not found', `No coupon ${code} in this program`, { couponCode: code })
      const campaign = await findCampaign(db, program.id, coupon.campaignId)
      let memberUsesLeft: number | null | undefined
      if (memberId !== undefined) {
        const [used] = await db
          .select({ uses: couponMemberUses.uses })
          .from(couponMemberUses)
          .where(and(eq(couponMemberUses.programId, program.id), eq(couponMemberUses.campaignId, campaign.id), eq(couponMemberUses.memberId, memberId)))
        memberUsesLeft = campaign.maxUsesPerMember === null ? null : Math.max(0, campaign.maxUsesPerMember - (used?.uses ?? 0))
      }
      const usesLeft = coupon.maxUses === null ? null : Math.max(0, coupon.maxUses - coupon.uses)
      const now = new Date()
      const state =
        campaign.status !== 'active'
          ? 'archived'
          : campaign.validFrom > now
            ? 'not_started'
            : campaign.validTo && campaign.validTo <= now
              ? 'expired'
              : usesLeft === 0
                ? 'used_up'
                : campaign.budget !== null && campaign.budgetUsed >= campaign.budget
                  ? 'budget_exhausted'
                  : memberId !== undefined && coupon.memberId !== null && coupon.memberId !== memberId
                    ? 'not_for_member'
                    : memberUsesLeft === 0
                      ? 'member_limit_reached'
                      : 'usable'
      return {
        code: coupon.code,
        campaign: campaignView(program, campaign),
        memberId: coupon.memberId,
        state: state as 'usable',
        usesLeft,
        ...(memberId !== undefined ? { memberUsesLeft } : {}),
        issuedAt: isoTimestamp(coupon.issuedAt),
      }
    },
  }
}
