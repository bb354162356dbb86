import { sql } from 'drizzle-orm'
import { bigint, check, foreignKey, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { segments } from '../saved-segments/tables.js'

/** A segment filter as stored (saved-segments/filter.ts reads it; not imported here: schema.ts would import the SQL it builds). */
type StoredFilter = Record<string, unknown>

/**
 * A campaign to a segment: every member the segment had when the campaign was created gets the
 * grant (points or a coupon code) once, with a marketing event. `total` is the members
 * materialized then; progress is their grant rows.
 */
export const segmentCampaigns = pgTable(
  'segment_campaigns',
  {
    programId: uuid().notNull(),
    id: uuid().notNull(),
    segmentId: uuid().notNull(),
    name: text().notNull(),
    /** points or coupon. */
    grantKind: text().notNull(),
    points: bigint({ mode: 'bigint' }),
    couponCampaignId: uuid(),
    /** The segment's filter as it was applied (a segment is not changed, but the record stands alone). */
    filter: jsonb().$type<StoredFilter>().notNull(),
    /** The moment the segment was evaluated. */
    asOf: timestamp({ withTimezone: true }).notNull(),
    total: integer().notNull(),
    /** running (members left to grant), completed, failed (a run stopped on an error: `error`; running it again resumes). */
    status: text().notNull(),
    /** The instance running it now and its last sign of life: a run silent past the lease is taken over. */
    runner: text(),
    heartbeatAt: timestamp({ withTimezone: true }),
    error: text(),
    createdBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: 'segment_campaigns_pkey', columns: [t.programId, t.id] }),
    foreignKey({ name: 'segment_campaigns_segment_fkey', columns: [t.programId, t.segmentId], foreignColumns: [segments.programId, segments.id] }),
    index('segment_campaigns_running_idx').on(t.programId, t.heartbeatAt).where(sql`status = 'running'`),
    check('segment_campaigns_status_check', sql`${t.status} in ('running', 'completed', 'failed')`),
    check(
      'segment_campaigns_grant_check',
      sql`(${t.grantKind} = 'points' and ${t.points} > 0 and ${t.couponCampaignId} is null) or (${t.grantKind} = 'coupon' and ${t.points} is null and ${t.couponCampaignId} is not null)`,
    ),
  ],
)

/** The campaign's members, materialized at its creation; a runner claims a batch of them for a while (claimed_until). */
export const segmentCampaignMembers = pgTable(
  'segment_campaign_members',
  {
    programId: uuid().notNull(),
    campaignId: uuid().notNull(),
    memberId: uuid().notNull(),
    claimedBy: text(),
    claimedUntil: timestamp({ withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: 'segment_campaign_members_pkey', columns: [t.programId, t.campaignId, t.memberId] }),
    foreignKey({ name: 'segment_campaign_members_campaign_fkey', columns: [t.programId, t.campaignId], foreignColumns: [segmentCampaigns.programId, segmentCampaigns.id] }),
  ],
)

/** What a member got from a campaign: written by the plan that grants it, once (the primary key). */
export const segmentCampaignGrants = pgTable(
  'segment_campaign_grants',
  {
    programId: uuid().notNull(),
    campaignId: uuid().notNull(),
    memberId: uuid().notNull(),
    /** granted, or skipped (the member was erased after the campaign was created: `skippedReason`). */
    outcome: text().notNull(),
    points: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    entryId: uuid(),
    couponCode: text(),
    eventId: uuid(),
    /** The marketing event: pending (queued for the sending window) or suppressed (no consent, Do-Not-Call, no phone). */
    eventStatus: text(),
    skippedReason: text(),
    grantedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'segment_campaign_grants_pkey', columns: [t.programId, t.campaignId, t.memberId] }),
    foreignKey({
      name: 'segment_campaign_grants_member_fkey',
      columns: [t.programId, t.campaignId, t.memberId],
      foreignColumns: [segmentCampaignMembers.programId, segmentCampaignMembers.campaignId, segmentCampaignMembers.memberId],
    }),
    check('segment_campaign_grants_outcome_check', sql`${t.outcome} in ('granted', 'skipped')`),
    check('segment_campaign_grants_event_status_check', sql`${t.eventStatus} in ('pending', 'suppressed')`),
  ],
)

export type SegmentCampaignRow = typeof segmentCampaigns.$inferSelect
