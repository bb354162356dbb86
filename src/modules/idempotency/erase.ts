import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'

/**
 * A member's erasure takes the stored answers that are that member (POST /v1/members keeps the
 * enrolled member, name and phone included) with it: personal data is kept nowhere else. A
 * retry of that enrolment afterwards is a new request.
 */
export async function eraseIdempotentAnswers(ex: Executor, programId: string, memberId: string): Promise<void> {
  await ex.execute(sql`delete from idempotency_keys where program_id = ${programId} and response_body->>'id' = ${memberId}`)
}
