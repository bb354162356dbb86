import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { currencyExponent, formatMinorUnits } from '../../shared/money.js'
import type { Period } from '../../shared/period.js'
import { D, roundToInteger } from '../../shared/rounding.js'
import type { ProgramRow } from '../programs/tables.js'
import { pointValueAt } from '../exports/service.js'
import { countedPurchases, daysBefore, ratio, ts } from '../segments/counted.js'

/** A customer is active at an instant when they made a counted purchase in the window before it. */
export const DEFAULT_ACTIVE_DAYS = 365

/**
 * The numbers of article 003 for a period, in one SQL statement inside the caller's snapshot:
 * nothing but the aggregates leaves the database. The counted purchases are read once, grouped by
 * member (per_member), and every figure comes from those per-member rows: at 10,000,000 purchases
 * reading them once per figure took 120-133 s, once 33-42 s (docs/benchmarks.md).
 *
 * - customers at an instant t: members with a counted purchase in [t - activeDays, t)
 * - new customers: members whose first counted purchase ever falls in the period
 * - retention = (customers at end - new customers) / customers at start; churn = 1 - retention
 *   (DOMAIN.md). The window is stretched to the period when the period is longer, so every new
 *   customer is also a customer at the end.
 */
export async function analyticsSummary(tx: Executor, program: ProgramRow, period: Period, activeDays = DEFAULT_ACTIVE_DAYS) {
  const periodDays = Math.ceil((period.to.getTime() - period.from.getTime()) / 86_400_000)
  const window = Math.max(activeDays, periodDays)
  const tz = program.timezone
  const years = (n: number) => sql`((${ts(period.to)} at time zone ${tz}) - ${`${n} years`}::interval) at time zone ${tz}`
  const [r] = await queryRows<Record<string, string>>(
    tx,
    sql`with per_member as (
          select member_id, min(occurred_at) as first_at,
                 count(*) as purchases_ever, sum(net) as revenue_ever,
                 count(*) filter (where occurred_at >= ${ts(period.from)}) as purchases,
                 sum(net) filter (where occurred_at >= ${ts(period.from)}) as revenue,
                 bool_or(occurred_at >= ${ts(daysBefore(period.from, window))} and occurred_at < ${ts(period.from)}) as at_start,
                 bool_or(occurred_at >= ${ts(daysBefore(period.to, window))}) as at_end
            from (${countedPurchases(program.id, period.to)}) counted
           group by member_id),
        ranked as (select revenue, row_number() over (order by revenue desc, member_id) as rn, count(*) over () as n from per_member where purchases > 0),
        wallets as (
          select a.type, sum(p.amount) as balance
            from postings p
            join ledger_accounts a on a.program_id = p.program_id and a.id = p.account_id
            join journal_entries e on e.program_id = p.program_id and e.id = p.entry_id
           where p.program_id = ${program.id} and a.type in ('member_points', 'member_stored_value') and e.effective_at < ${ts(period.to)}
           group by a.type),
        figures as (
          select count(*) filter (where purchases > 0) as active,
                 count(*) filter (where first_at >= ${ts(period.from)}) as new_customers,
                 count(*) filter (where at_start) as at_start,
                 count(*) filter (where at_end) as at_end,
                 coalesce(sum(purchases), 0) as purchases,
                 coalesce(sum(revenue), 0) as revenue,
                 count(*) as customers_ever,
                 coalesce(sum(purchases_ever), 0) as purchases_ever,
                 coalesce(sum(revenue_ever), 0) as revenue_ever,
                 count(*) filter (where at_end and first_at <= ${years(1)}) as tenure_1,
                 count(*) filter (where at_end and first_at <= ${years(2)}) as tenure_2,
                 count(*) filter (where at_end and first_at <= ${years(5)}) as tenure_5
            from per_member)
        select
          (select count(*) from members where program_id = ${program.id} and created_at < ${ts(period.to)})::text as members_total,
          (select count(*) from members where program_id = ${program.id} and created_at >= ${ts(period.from)} and created_at < ${ts(period.to)})::text as members_enrolled,
          f.active::text, f.new_customers::text, f.at_start::text, f.at_end::text, f.purchases::text, f.revenue::text,
          (select count(*) from ranked where rn <= (n + 4) / 5)::text as top_members,
          (select coalesce(sum(revenue), 0) from ranked where rn <= (n + 4) / 5)::text as top_revenue,
          f.customers_ever::text, f.purchases_ever::text, f.revenue_ever::text, f.tenure_1::text, f.tenure_2::text, f.tenure_5::text,
          (select coalesce(sum(balance), 0) from wallets where type = 'member_points')::text as points_outstanding,
          (select coalesce(sum(balance), 0) from wallets where type = 'member_stored_value')::text as stored_value_outstanding
          from figures f`,
  )
  const n = (k: string) => BigInt(r![k]!)
  const exp = currencyExponent(program.currency) ?? 0
  const money = (v: bigint) => formatMinorUnits(v, exp)
  const average = (total: bigint, count: bigint) => (count === 0n ? null : money(roundToInteger(D(total.toString()).div(count.toString()), 'half_up')))
  const share = (part: bigint, whole: bigint) => ({ customers: Number(part), share: ratio(part, whole) })

  const atStart = n('at_start')
  const retained = n('at_end') - n('new_customers')
  const retention = atStart === 0n ? null : D(retained.toString()).div(atStart.toString())
  const pointValue = await pointValueAt(tx, program, period.to)
  return {
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    currency: program.currency,
    activeWindowDays: window,
    members: { total: Number(n('members_total')), enrolled: Number(n('members_enrolled')) },
    customers: { active: Number(n('active')), new: Number(n('new_customers')), atStart: Number(atStart), atEnd: Number(n('at_end')) },
    retentionRate: retention === null ? null : retention.toDecimalPlaces(4).toNumber(),
    churnRate: retention === null ? null : D(1).minus(retention).toDecimalPlaces(4).toNumber(),
    purchases: Number(n('purchases')),
    revenue: money(n('revenue')),
    averageTransactionValue: average(n('revenue'), n('purchases')),
    purchaseFrequency: ratio(n('purchases'), n('active')),
    lifetimeValue: {
      historic: average(n('revenue_ever'), n('customers_ever')),
      averageOrderValue: average(n('revenue_ever'), n('purchases_ever')),
      purchasesPerCustomer: ratio(n('purchases_ever'), n('customers_ever')),
      customers: Number(n('customers_ever')),
    },
    topCustomers: { customers: Number(n('top_members')), revenue: money(n('top_revenue')), share: ratio(n('top_revenue'), n('revenue')) },
    tenure: {
      customers: Number(n('at_end')),
      oneYearOrMore: share(n('tenure_1'), n('at_end')),
      twoYearsOrMore: share(n('tenure_2'), n('at_end')),
      fiveYearsOrMore: share(n('tenure_5'), n('at_end')),
    },
    outstanding: {
      points: Number(n('points_outstanding')),
      pointsValue: pointValue ? money(n('points_outstanding') * pointValue.minor) : null,
      storedValue: money(n('stored_value_outstanding')),
    },
  }
}
