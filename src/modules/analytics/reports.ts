// The answers of the analytics reports, as the routes send them and the nightly snapshot stores
// them: one function per report, so a snapshot answer is the live answer of its moment.
import type { Executor } from '../../db/client.js'
import { currencyExponent, formatMinorUnits } from '../../shared/money.js'
import type { Period } from '../../shared/period.js'
import type { ProgramRow } from '../programs/tables.js'
import { ratio } from '../segments/counted.js'
import { lifecycleCounts, STAGES } from '../segments/lifecycle.js'
import { rfmReport } from '../segments/rfm.js'
import { cohortCells, cohortTable, type CohortUnit } from './cohorts.js'

export async function cohortsAnswer(tx: Executor, program: ProgramRow, period: Period, by: CohortUnit) {
  const { cells, lastBucket } = await cohortCells(tx, program.id, program.timezone, period, by)
  return { by, from: period.from.toISOString(), to: period.to.toISOString(), cohorts: cohortTable(cells, lastBucket, by) }
}

export async function rfmAnswer(tx: Executor, program: ProgramRow, asOf: Date) {
  const report = await rfmReport(tx, program.id, program.timezone, asOf)
  const exp = currencyExponent(program.currency) ?? 0
  return {
    asOf: asOf.toISOString(),
    members: report.total,
    segments: report.segments.map((s) => ({ ...s, share: ratio(s.members, report.total) })),
    scores: {
      recency: report.recency,
      frequency: report.frequency,
      monetary: report.monetary.map((b) => ({ ...b, min: formatMinorUnits(BigInt(b.min), exp), max: formatMinorUnits(BigInt(b.max), exp) })),
    },
  }
}

export async function lifecycleAnswer(ex: Executor, program: ProgramRow, asOf: Date) {
  const counts = await lifecycleCounts(ex, program.id, asOf)
  const total = STAGES.reduce((sum, s) => sum + counts[s], 0)
  return { asOf: asOf.toISOString(), members: total, stages: STAGES.map((stage) => ({ stage, members: counts[stage], share: ratio(counts[stage], total) })) }
}
