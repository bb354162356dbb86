import { sql } from 'drizzle-orm'
import { queryRows, type Database } from '../../db/client.js'
import type { JobContext, JobDefinition } from '../job-contract/definition.js'
import { PREVIEW_LIMIT, type JobPreview } from '../job-contract/preview.js'
import { PLATFORM_SCOPE, idempotencyRetentionDays } from '../idempotency/service.js'

const BATCH = 5000

/** The instant before which a key is expired at `asOf`: retention days earlier. */
export const retentionCutoff = (asOf: Date, days: number): Date => new Date(asOf.getTime() - days * 86_400_000)

/**
 * Deletes the program's idempotency records (and the platform's, POST /v1/programs, which no
 * program owns) older than the retention at `asOf`, in batches so no statement holds many locks.
 * Only the idempotency_keys table is touched: purchases, entries and every business row stay.
 * A key already expired is ignored by the lookup anyway (service.ts); this only frees the space.
 */
export async function purgeIdempotencyKeys(database: Database, programId: string, asOf: Date): Promise<{ purged: number }> {
  const cutoff = retentionCutoff(asOf, idempotencyRetentionDays(database)).toISOString()
  let purged = 0
  for (;;) {
    const rows = await queryRows<{ key: string }>(
      database.db,
      sql`delete from idempotency_keys where (program_id, key) in (
            select program_id, key from idempotency_keys
             where program_id in (${programId}, ${PLATFORM_SCOPE}) and created_at <= ${cutoff} limit ${BATCH})
          returning key`,
    )
    purged += rows.length
    if (rows.length < BATCH) return { purged }
  }
}

/** The dry run: the first PREVIEW_LIMIT expired keys (oldest first) and how many. */
async function previewPurge({ database, program, asOf }: JobContext): Promise<JobPreview> {
  const cutoff = retentionCutoff(asOf, idempotencyRetentionDays(database)).toISOString()
  const rows = await queryRows<{ key: string; total: number | string }>(
    database.db,
    sql`select key, count(*) over () as total from idempotency_keys
         where program_id in (${program.id}, ${PLATFORM_SCOPE}) and created_at <= ${cutoff}
         order by created_at, key limit ${PREVIEW_LIMIT}`,
  )
  const total = Number(rows[0]?.total ?? 0)
  return { result: { purged: total }, affected: rows.map((r) => ({ action: 'purge', memberId: null, points: null, detail: { idempotencyKey: r.key } })), affectedTotal: total }
}

/** Daily, so each program's keys are swept once a day by whichever instance claims the run. */
export const purgeIdempotencyKeysJob: JobDefinition = {
  name: 'purge-idempotency-keys',
  description: 'Deletes Idempotency-Key records older than IDEMPOTENCY_RETENTION_DAYS (default 30) at asOf; such keys are already treated as new',
  daily: true,
  run: ({ database, program, asOf }) => purgeIdempotencyKeys(database, program.id, asOf),
  preview: previewPurge,
}
